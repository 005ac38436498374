def test_owner_creates_and_reads_a_customer(acme):
    api = acme.as_("owner")
    created = api.post("/customers", {"name": "Initech", "tier": "smb", "domains": ["initech.example"]})
    assert created.status == 201, created.body
    fetched = api.get(f"/customers/{created.json['id']}")
    assert fetched.status == 200, fetched.body
    assert fetched.json["name"] == "Initech"
