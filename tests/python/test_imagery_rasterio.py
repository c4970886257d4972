"""Scenes written by rasterio/GDAL (an independent writer) against the real server with the
Hongfeng network: bloom area = planted pixels × pixel area exactly, clouds lower the valid
fraction, land never counts, the L2A offset before/after baseline 04.00, 32648 vs 4326 within
1 %, and every kind of bad file refused with its reason and nothing stored."""

import os
import shutil
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import _binary, _free_port
import imagery_scenes as sc

TIME = "2026-07-15T03:20:00Z"
# With a token the upload may be as large as [http] max_body_bytes (anonymous: 1 MiB).
TOKEN = "imagery-py-token"


@pytest.fixture(scope="module")
def api():
    data = tempfile.mkdtemp(prefix="qingshui-imagery-")
    cfg = os.path.join(data, "qingshui.toml")
    with open(cfg, "w") as f:
        f.write(f'[network]\nfile = "{os.path.abspath(sc.NETWORK)}"\n[auth]\ntokens = ["{TOKEN}"]\n')
    port = _free_port()
    proc = subprocess.Popen([_binary(), "serve", "--open", "--config", cfg, "--data-dir",
                             os.path.join(data, "db"), "--http", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.time() + 30
    while True:
        try:
            requests.get(f"{base}/health", timeout=2)
            break
        except requests.ConnectionError:
            assert time.time() < deadline, "server did not start"
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=20)
    shutil.rmtree(data, ignore_errors=True)


def post(api, body, **query):
    query.setdefault("time", TIME)
    return requests.post(f"{api}/scenes", params=query, data=body,
                         headers={"Content-Type": "image/tiff", "Authorization": f"Bearer {TOKEN}"}, timeout=60)


def count(api):
    return len(requests.get(f"{api}/scenes", timeout=10).json()["value"])


def detail(api, summary):
    return requests.get(f"{api}/scenes/{summary['id']}", timeout=10).json()


def test_bad_files_are_refused_with_the_reason_and_nothing_is_stored(api):
    dn, tr, _, _ = sc.stack()
    far = sc.write(dn, tr @ tr.translation(50000 / sc.RES, 0))  # 50 km east of the lake
    cases = [
        ("not a TIFF", sc.png_bytes(), {}, 415, "not_tiff"),
        ("no georeference", sc.write(dn[:, :64, :64], None, crs=None, driver="GTiff"), {}, 422, "georeference"),
        ("CRS unsupported", sc.write(dn, tr, crs="EPSG:3857", driver="GTiff"), {}, 422, "crs_unsupported"),
        ("unknown bands", sc.write(dn, tr, descriptions=["B03", "B04", "B05", "B06", "B99", "B11"]), {}, 422, "B99"),
        ("not over the lake", far, {}, 422, "not_over_lake"),
    ]
    assert count(api) == 0
    for what, body, q, status, reason in cases:
        r = post(api, body, **q)
        assert r.status_code == status, (what, r.text)
        err = r.json()
        assert err["type"] == "error" and reason in err["message"], (what, err)
        assert count(api) == 0, f"{what} stored something"


def test_bloom_area_is_planted_pixels_times_pixel_area_and_land_never_counts(api):
    dn, tr, n, _ = sc.stack()
    r = post(api, sc.write(dn, tr, tags={"BOA_ADD_OFFSET": "-1000", "QUANTIFICATION_VALUE": "10000"}),
             sensor="sentinel-2a")
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["bloom_area_km2"] == pytest.approx(n * sc.RES * sc.RES / 1e6, abs=1e-12)
    d = detail(api, s)
    south = next(b for b in d["basins"] if b["basin"] == "south")
    north = next(b for b in d["basins"] if b["basin"] == "north")
    assert south["bloom_pixels"] == n and north["bloom_pixels"] == 0
    assert s["valid_fraction"] == 1.0
    # Land is vegetation with FAI > 0: had any land pixel counted, the area would exceed n pixels.
    assert d["lake"]["bloom_pixels"] == n


def test_a_planar_gtiff_reads_like_the_cog(api):
    dn, tr, n, _ = sc.stack()
    r = post(api, sc.write(dn, tr, driver="GTiff", interleave="band", tags={"BOA_ADD_OFFSET": "-1000"}))
    assert r.status_code == 201, r.text
    assert detail(api, r.json())["lake"]["bloom_pixels"] == n


def test_a_cloud_lowers_the_valid_fraction_and_is_not_no_bloom(api):
    for scl in (False, True):
        dn, tr, n, cloudy_lake = sc.stack(cloud=True, scl=scl)
        r = post(api, sc.write(dn, tr, tags={"BOA_ADD_OFFSET": "-1000"}))
        assert r.status_code == 201, r.text
        d = detail(api, r.json())
        assert d["lake"]["bloom_pixels"] == n, scl
        lost = d["lake"]["lake_pixels"] - d["lake"]["valid_pixels"]
        assert 0 < lost <= cloudy_lake, (scl, lost, cloudy_lake)
        assert d["valid_fraction"] < 1.0
        assert d["coverage"] == pytest.approx(d["lake"]["bloom_area_km2"] / d["lake"]["valid_area_km2"])


def test_l2a_offset_before_and_after_baseline_04_give_the_same_reflectance(api):
    dn4, tr, n, _ = sc.stack(baseline4=True)
    dn3, _, _, _ = sc.stack(baseline4=False)
    after = detail(api, post(api, sc.write(dn4, tr, tags={"BOA_ADD_OFFSET": "-1000"})).json())
    before = detail(api, post(api, sc.write(dn3, tr, tags={"PROCESSING_BASELINE": "03.01"})).json())
    assert after["boa_add_offset"] == -1000 and before["boa_add_offset"] == 0
    # Same pixels, same counts and areas. The NDCI mean may differ in the 8th decimal: numpy rounds
    # float32 reflectance × 10⁴ + 1000 and × 10⁴ differently at a few .5 boundaries (one DN).
    a, b = dict(after["lake"]), dict(before["lake"])
    assert a.pop("ndci_mean") == pytest.approx(b.pop("ndci_mean"), abs=1e-6)
    assert a == b
    assert after["lake"]["bloom_pixels"] == n


def test_the_same_scene_in_32648_and_4326_gives_the_same_area_within_1_percent(api):
    dn, tr, _, _ = sc.stack()
    utm = detail(api, post(api, sc.write(dn, tr, tags={"BOA_ADD_OFFSET": "-1000"})).json())
    dn4, tr4 = sc.to_4326(dn, tr)
    r = post(api, sc.write(dn4, tr4, crs="EPSG:4326", tags={"BOA_ADD_OFFSET": "-1000"}))
    assert r.status_code == 201, r.text
    geo = detail(api, r.json())
    assert geo["epsg"] == 4326
    assert geo["bloom_area_km2"] == pytest.approx(utm["bloom_area_km2"], rel=0.01)
    assert geo["lake"]["water_area_km2"] == pytest.approx(utm["lake"]["water_area_km2"], rel=0.01)
