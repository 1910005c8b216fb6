from tests import factories

def test_smoke(openrosa, client, seed):
    r = client.get(f"{seed.key_base}/formList", headers={"X-OpenRosa-Version": "1.0"})
    print(r.status, r.headers, r.data.decode())
    xml = factories.submission_xml(fields={"village": "Bản A", "total": "3", "photo1": "a.jpg", "photo2": "b.jpg"})
    r = openrosa.submit(xml, {"a.jpg": b"aaa"})
    print(r.status, r.data.decode())
    assert r.status_code == 201
    r = openrosa.submit(xml, {"b.jpg": b"bbb"})
    assert r.status_code == 201, r.data
