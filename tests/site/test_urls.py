def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No API endpoint at /api/no-such-thing/."}


def test_root_sends_to_the_admin(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_human_bytes_rounds_in_binary_units():
    from common.formatting import human_bytes

    assert human_bytes(None) == "—"
    assert human_bytes(1023) == "1023 B"
    assert human_bytes(1536) == "1.50 KiB"
    assert human_bytes(1.999 * 1024**3) == "2.00 GiB"
    assert human_bytes(5 * 1024**4) == "5.00 TiB"
    assert human_bytes(-2048) == "-2.00 KiB"


def test_admin_lists_of_aggregates_and_maintenance_runs_open(admin_client):
    for model in ("databasesizeaggregate", "instancesizeaggregate", "maintenancerun"):
        response = admin_client.get(f"/admin/capacity/{model}/")
        assert response.status_code == 200, model
