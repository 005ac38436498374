"""Files: a presigned upload restricted to its size, type and key (POSTed to moto's S3, which
checks the policy as S3 does: bluehill_dev.s3_post_policy), the S3 event that checks what
arrived (real size, leading bytes), reads with a 5-minute download link, lists, changes,
soft delete, links to external documents, and the portal's reach."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from chalicelib.files import service as files_service
from chalicelib.files.rules import MAX_BYTES

from bluehill_dev import fidelity, resources, s3_notifications

PDF = b"%PDF-1.7\n" + b"x" * 200
EXE = b"MZ\x90\x00" + b"\x00" * 200


@pytest.fixture(scope="module")
def notifications(chalice_app):
    """The files bucket's notifications, delivered as the local stack does (to an SQS queue,
    then to the handler registered for the bucket)."""
    sqs = boto3.client("sqs")
    url = s3_notifications.subscribe(boto3.client("s3"), sqs)

    def deliver():
        return s3_notifications.pump(sqs, url, lambda name, event: chalice_app.handler_map[name](event, None))

    return deliver


@pytest.fixture(scope="module")
def customer(acme):
    return acme.as_("owner").post("/customers", {"name": "Files Co"}).json


@pytest.fixture(scope="module")
def portal_customer(acme):
    return acme.portal_customer_id


def request_upload(api, customer_id, filename="Plan.pdf", content_type="application/pdf", size=None, **more):
    return api.post("/files", {"filename": filename, "content_type": content_type, "size": size or len(PDF),
                               "customer_id": customer_id, **more})


def send(upload, content, content_type=None):
    fields = dict(upload["fields"])
    if content_type is not None:
        fields["Content-Type"] = content_type
    return requests.post(upload["url"], data=fields, files={"file": ("upload", content)}, timeout=10)


def uploaded(api, notifications, customer_id, content=PDF, **kw):
    created = request_upload(api, customer_id, size=len(content), **kw)
    assert created.status == 201, created.body
    sent = send(created.json["upload"], content)
    assert sent.status_code == 204, sent.content
    notifications()
    return created.json


def test_an_upload_request_answers_a_presigned_post_for_that_key_type_and_exact_size(acme, customer):
    created = request_upload(acme.as_("owner"), customer["id"], filename="../../etc/Plan.pdf")
    assert created.status == 201, created.body
    file, upload = created.json, created.json["upload"]
    assert (file["status"], file["filename"], file["size"]) == ("pending", "Plan.pdf", len(PDF))
    key = upload["fields"]["key"]
    assert key == f"tenants/{acme.tenant_id}/files/{file['id']}/Plan.pdf"
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", len(PDF), len(PDF)] in policy["conditions"]
    assert ["eq", "$Content-Type", "application/pdf"] in policy["conditions"]
    assert ["eq", "$key", key] in policy["conditions"]
    assert "download_url" not in file or file["download_url"] is None


def test_an_upload_becomes_available_and_downloads_as_an_attachment_for_five_minutes(acme, customer, notifications):
    api = acme.as_("owner")
    file = uploaded(api, notifications, customer["id"], filename="Résumé 2026.pdf")
    got = api.get(f"/files/{file['id']}")
    assert got.status == 200 and got.json["status"] == "available", got.body
    link = got.json["download_url"]
    query = parse_qs(urlsplit(link).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"][0].startswith('attachment; filename="Resume 2026.pdf"')
    download = requests.get(link, timeout=10)
    assert download.status_code == 200 and download.content == PDF


def test_s3_refuses_an_upload_over_the_declared_size(acme, customer, notifications):
    created = request_upload(acme.as_("owner"), customer["id"]).json
    refused = send(created["upload"], PDF + b"more")
    assert refused.status_code == 400 and b"EntityTooLarge" in refused.content
    notifications()
    assert acme.as_("owner").get(f"/files/{created['id']}").json["status"] == "pending"


def test_s3_refuses_an_upload_of_another_content_type(acme, customer):
    created = request_upload(acme.as_("owner"), customer["id"]).json
    refused = send(created["upload"], PDF, content_type="application/x-msdownload")
    assert refused.status_code == 403 and b"AccessDenied" in refused.content


def test_requests_over_25_mb_or_of_types_not_allowed_are_refused_naming_the_field(acme, customer):
    api = acme.as_("owner")
    too_big = request_upload(api, customer["id"], size=MAX_BYTES + 1)
    assert too_big.status == 422 and too_big.json["errors"][0]["field"] == "size"
    exe = request_upload(api, customer["id"], filename="setup.exe", content_type="application/x-msdownload")
    assert exe.status == 422 and exe.json["errors"][0]["field"] == "content_type"
    renamed = request_upload(api, customer["id"], filename="setup.exe")
    assert renamed.status == 422 and renamed.json["errors"][0]["field"] == "filename"
    nothing = request_upload(api, customer["id"], filename="../..")
    assert nothing.status == 422 and nothing.json["errors"][0]["field"] == "filename"
    no_size = api.post("/files", {"filename": "a.pdf", "content_type": "application/pdf",
                                  "customer_id": customer["id"]})
    assert no_size.status == 422 and no_size.json["errors"][0]["field"] == "size"


def test_a_pdf_that_is_an_executable_is_rejected_and_its_bytes_removed(acme, customer, notifications, deliver):
    api = acme.as_("owner")
    file = uploaded(api, notifications, customer["id"], content=EXE, filename="invoice.pdf")
    got = api.get(f"/files/{file['id']}").json
    assert got["status"] == "rejected" and "Windows executable" in got["rejection"]
    assert got.get("download_url") is None
    with pytest.raises(boto3.client("s3").exceptions.NoSuchKey):
        boto3.client("s3").get_object(Bucket=resources.FILES_BUCKET, Key=file["upload"]["fields"]["key"])
    published = [d.event for d in deliver() if d.event.type == "File.Rejected"]
    assert [e.data["file_id"] for e in published] == [file["id"]]


def test_the_s3_event_publishes_file_uploaded_once_with_the_links(acme, customer, notifications, deliver, chalice_app):
    api = acme.as_("owner")
    ticket = api.post("/tickets", {"subject": "Docs", "description": "d", "customer_id": customer["id"]}).json
    file = uploaded(api, notifications, customer["id"], ticket_id=ticket["id"], portal_visible=True)
    event = {"Records": [{"eventName": "ObjectCreated:Post", "s3": {
        "bucket": {"name": resources.FILES_BUCKET}, "object": {"key": file["upload"]["fields"]["key"]}}}]}
    assert chalice_app.handler_map["files_uploaded"](event, None) == {"outcomes": ["settled"]}  # delivered twice
    assert acme.as_("owner").get(f"/files/{file['id']}").json["version"] == 2
    uploaded_events = [d.event for d in deliver() if d.event.type == "File.Uploaded"]
    assert len(uploaded_events) == 1
    data = uploaded_events[0].data
    assert (data["customer_id"], data["ticket_id"], data["portal_visible"], data["size"]) == (
        customer["id"], ticket["id"], True, len(PDF))


def test_a_second_object_on_the_key_after_the_check_is_not_what_downloads(acme, customer, notifications):
    api = acme.as_("owner")
    boto3.client("s3").put_bucket_versioning(Bucket=resources.FILES_BUCKET,
                                             VersioningConfiguration={"Status": "Enabled"})
    try:
        again = uploaded(api, notifications, customer["id"])
        assert send(again["upload"], b"%PDF-" + b"y" * (len(PDF) - 5)).status_code == 204
        notifications()
        link = api.get(f"/files/{again['id']}").json["download_url"]
        assert requests.get(link, timeout=10).content == PDF
    finally:
        boto3.client("s3").put_bucket_versioning(Bucket=resources.FILES_BUCKET,
                                                 VersioningConfiguration={"Status": "Suspended"})


def test_external_documents_are_linked_as_files(acme, customer):
    api = acme.as_("owner")
    linked = api.post("/files", {"filename": "Onboarding plan", "source": "link", "customer_id": customer["id"],
                                 "url": "https://www.notion.so/acme/Onboarding-1a2b"})
    assert linked.status == 201, linked.body
    assert (linked.json["status"], linked.json["provider"], linked.json["upload"]) == ("available", "notion", None)
    for url in ("https://evil.example/doc", "http://docs.google.com/x", "https://docs.google.com.evil.example/x"):
        refused = api.post("/files", {"filename": "x", "source": "link", "customer_id": customer["id"], "url": url})
        assert refused.status == 422, url
    mixed = api.post("/files", {"filename": "x", "source": "link", "customer_id": customer["id"], "size": 3,
                                "url": "https://docs.google.com/document/d/1"})
    assert mixed.status == 422 and mixed.json["errors"][0]["field"] == "size"


def test_lists_filter_by_links_and_portal_visibility_newest_first(acme, customer, notifications):
    api = acme.as_("owner")
    project = api.post(f"/customers/{customer['id']}/projects", {"name": "Files project"}).json
    task = api.post(f"/projects/{project['id']}/tasks", {"title": "Collect docs"}).json
    in_project = uploaded(api, notifications, customer["id"], project_id=project["id"])
    on_task = uploaded(api, notifications, customer["id"], project_id=project["id"], task_id=task["id"],
                       portal_visible=True)
    everything = api.get(f"/customers/{customer['id']}/files?limit=200").json["items"]
    ids = [item["id"] for item in everything]
    assert ids.index(on_task["id"]) < ids.index(in_project["id"])
    listed = api.get(f"/customers/{customer['id']}/files?project_id={project['id']}").json["items"]
    by_project = [i["id"] for i in listed]
    assert by_project == [on_task["id"], in_project["id"]]
    by_task = [i["id"] for i in api.get(f"/customers/{customer['id']}/files?task_id={task['id']}").json["items"]]
    assert by_task == [on_task["id"]]
    hidden = api.get(f"/customers/{customer['id']}/files?project_id={project['id']}&portal_visible=false").json
    assert [i["id"] for i in hidden["items"]] == [in_project["id"]]
    page = api.get(f"/customers/{customer['id']}/files?limit=1")
    assert len(page.json["items"]) == 1 and page.json["next_cursor"]
    other = api.post("/customers", {"name": "Other Files Co"}).json
    wrong = request_upload(api, other["id"], project_id=project["id"])
    assert wrong.status == 422 and wrong.json["errors"][0]["field"] == "project_id"


def test_patch_is_version_checked_and_moves_the_file_between_lists(acme, customer, notifications):
    api = acme.as_("owner")
    file = uploaded(api, notifications, customer["id"])
    current = api.get(f"/files/{file['id']}").json
    changed = api.patch(f"/files/{file['id']}", {"portal_visible": True, "description": "Signed",
                                                "version": current["version"]})
    assert changed.status == 200 and changed.json["portal_visible"] and changed.json["description"] == "Signed"
    stale = api.patch(f"/files/{file['id']}", {"description": "Old", "version": current["version"]})
    assert stale.status == 409
    assert api.patch(f"/files/{file['id']}", {"portal_visible": None, "version": changed.json["version"]}).status == 422
    assert api.patch(f"/files/{file['id']}", {"owner": "me", "version": changed.json["version"]}).status == 422
    portal_list = api.get(f"/customers/{customer['id']}/files?portal_visible=true").json["items"]
    assert file["id"] in [i["id"] for i in portal_list]
    assert acme.as_("readonly").patch(f"/files/{file['id']}", {"description": "x", "version": 2}).status == 403


def test_delete_is_soft_hides_the_file_and_tags_its_object_for_the_lifecycle(acme, customer, notifications):
    api = acme.as_("owner")
    file = uploaded(api, notifications, customer["id"])
    assert api.delete(f"/files/{file['id']}").status == 204
    assert api.get(f"/files/{file['id']}").status == 404
    assert file["id"] not in [i["id"] for i in api.get(f"/customers/{customer['id']}/files?limit=200").json["items"]]
    tags = boto3.client("s3").get_object_tagging(Bucket=resources.FILES_BUCKET, Key=file["upload"]["fields"]["key"])
    assert {"Key": "bluehill-deleted", "Value": "true"} in tags["TagSet"]
    assert api.delete(f"/files/{file['id']}").status == 404


def test_a_portal_user_reaches_only_its_own_customers_portal_visible_available_files(
        acme, customer, portal_customer, notifications):
    owner, portal = acme.as_("owner"), acme.as_("portal")
    shared = uploaded(owner, notifications, portal_customer, portal_visible=True)
    internal = uploaded(owner, notifications, portal_customer)
    pending = request_upload(owner, portal_customer, portal_visible=True).json
    elsewhere = uploaded(owner, notifications, customer["id"], portal_visible=True)
    assert portal.get(f"/files/{shared['id']}").status == 200
    for hidden in (internal, pending, elsewhere):
        assert portal.get(f"/files/{hidden['id']}").status == 404
    listed = portal.get(f"/customers/{portal_customer}/files?limit=200").json["items"]
    assert shared["id"] in [i["id"] for i in listed]
    assert not {internal["id"], pending["id"]} & {i["id"] for i in listed}
    assert all(i.get("rejection") is None and i.get("uploaded_by") is None for i in listed)
    assert portal.get(f"/customers/{portal_customer}/files?portal_visible=false").json["items"] == []
    assert portal.get(f"/customers/{customer['id']}/files").status == 404
    assert portal.patch(f"/files/{shared['id']}", {"portal_visible": False, "version": 2}).status == 403
    assert portal.delete(f"/files/{shared['id']}").status == 403


def test_a_portal_upload_is_of_its_own_customer_and_portal_visible(acme, customer, portal_customer, notifications):
    portal = acme.as_("portal")
    mine = request_upload(portal, portal_customer)
    assert mine.status == 201 and mine.json["portal_visible"] is True, mine.body
    assert request_upload(portal, customer["id"]).status == 422
    project = acme.as_("owner").post(f"/customers/{portal_customer}/projects", {"name": "Portal proj"}).json
    linked = request_upload(portal, portal_customer, project_id=project["id"])
    assert linked.status == 422 and linked.json["errors"][0]["field"] == "project_id"
    assert send(mine.json["upload"], PDF).status_code == 204
    notifications()
    assert portal.get(f"/files/{mine.json['id']}").json["status"] == "available"


def test_portal_service_reads_for_the_portal_room(acme, portal_customer, notifications):
    from chalicelib.core.auth import Principal
    from chalicelib.core.scope import tenant_scope

    shared = uploaded(acme.as_("owner"), notifications, portal_customer, portal_visible=True)
    principal = Principal(acme.tenant_id, acme.users["portal"], "portal", acme.emails["portal"], portal_customer)
    fidelity.settle()  # the index has caught up, as between two requests
    with tenant_scope(acme.tenant_id):
        page = files_service.portal_files(principal, limit=200)
    assert shared["id"] in [f.id for f in page.items]
    assert all(f.portal_visible and f.status == "available" for f in page.items)


def test_other_tenants_and_readonly_cannot_create_or_read(acme, globex, customer, notifications):
    file = uploaded(acme.as_("owner"), notifications, customer["id"])
    assert globex.as_("owner").get(f"/files/{file['id']}").status == 404
    assert globex.as_("owner").get(f"/customers/{customer['id']}/files").status == 404
    assert request_upload(globex.as_("owner"), customer["id"]).status == 422
    assert request_upload(acme.as_("readonly"), customer["id"]).status == 403
    assert acme.as_("readonly").get(f"/files/{file['id']}").status == 200
