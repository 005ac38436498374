"""AWS CDK infrastructure for BlueHill: one stack, constructs split by concern.

``application.build_app`` builds the app (used by ``infra/app.py`` and ``tests/infra``);
``chalicelib`` (``functions/``) must be importable first, for the table schema.
"""
