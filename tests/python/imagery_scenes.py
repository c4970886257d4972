"""Sentinel-2-like test scenes written by an independent writer (rasterio / GDAL), after the recipe
of imagery.md §4.7, over the Hongfeng network's lake outline (config/hongfeng.toml): the lake is
rasterised by GDAL (pixel centres), a scum patch of known pixel count is planted well inside it,
and land around it is vegetation (FAI > 0 there too)."""

import io
import os
import tomllib

import numpy as np
import rasterio
from rasterio.features import rasterize
from rasterio.transform import from_origin
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform, transform_geom

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
NETWORK = os.path.join(ROOT, "config", "hongfeng.toml")
BANDS = ["B03", "B04", "B05", "B06", "B8A", "B11"]
SPEC = {  # B03 B04 B05 B06 B8A B11 reflectance
    "land": [0.08, 0.06, 0.12, 0.25, 0.32, 0.20],
    "water": [0.04, 0.025, 0.018, 0.008, 0.006, 0.003],
    "scum": [0.06, 0.045, 0.080, 0.120, 0.150, 0.050],
    "cloud": [0.45, 0.44, 0.45, 0.46, 0.47, 0.35],
}
RES = 20.0


def lake_outline():
    with open(NETWORK, "rb") as f:
        net = tomllib.load(f)
    zone = next(z for z in net["zones"] if z["kind"] == "lake_outline")
    return {"type": "Polygon", "coordinates": zone["polygon"]}


def _grid():
    """A 20 m UTM 48N grid covering the lake with a margin."""
    xs, ys = transform("EPSG:4326", "EPSG:32648", [106.355, 106.46], [26.61, 26.415])
    x0, y0 = round(xs[0] / RES) * RES, round(ys[0] / RES) * RES
    w, h = int((xs[1] - x0) / RES), int((y0 - ys[1]) / RES)
    return from_origin(x0, y0, RES, RES), w, h


def stack(cloud=False, baseline4=True, scl=False, seed=42):
    """(reflectance bands [6, H, W], class map, transform, scum pixel count, cloud mask)."""
    tr, w, h = _grid()
    lake = rasterize([(transform_geom("EPSG:4326", "EPSG:32648", lake_outline()), 1)],
                     out_shape=(h, w), transform=tr, fill=0, dtype="uint8").astype(bool)
    # The scum patch: a block of pixels around L06 (106.385, 26.47), far from the shore.
    (sx,), (sy,) = transform("EPSG:4326", "EPSG:32648", [106.392], [26.468])
    col, row = int((sx - tr.c) / RES), int((tr.f - sy) / RES)
    scum = np.zeros_like(lake)
    scum[row - 30:row + 30, col - 25:col + 25] = True
    assert (lake[scum]).all(), "the patch lies inside the lake"
    cls = np.full((h, w), "land", dtype=object)
    cls[lake] = "water"
    cls[scum] = "scum"
    clouds = np.zeros_like(lake)
    if cloud:
        # Over the north basin, clear of the patch.
        (cx,), (cy,) = transform("EPSG:4326", "EPSG:32648", [106.425], [26.57])
        c, r = int((cx - tr.c) / RES), int((tr.f - cy) / RES)
        clouds[r - 30:r + 30, c - 30:c + 30] = True
        cls[clouds] = "cloud"
    refl = np.zeros((6, h, w), np.float32)
    for name, s in SPEC.items():
        for b in range(6):
            refl[b][cls == name] = s[b]
    rng = np.random.default_rng(seed)
    # 1 % noise: far from any threshold, so the planted count is exact.
    refl *= rng.normal(1.0, 0.01, refl.shape).astype(np.float32)
    offset = 1000 if baseline4 else 0
    dn = np.clip(np.round(refl * 10000 + offset), 1, 65535).astype(np.uint16)
    if scl:
        layer = np.where(clouds, 9, np.where(lake, 6, 4)).astype(np.uint16)
        dn = np.concatenate([dn, layer[None]], axis=0)
    return dn, tr, int(scum.sum()), int((clouds & lake).sum())


def write(dn, tr, crs="EPSG:32648", driver="COG", descriptions=None, tags=None, interleave=None):
    """GeoTIFF bytes via rasterio's MemoryFile."""
    prof = dict(driver=driver, dtype="uint16", count=dn.shape[0], height=dn.shape[1], width=dn.shape[2],
                crs=crs, transform=tr, nodata=0, compress="DEFLATE")
    if driver == "COG":
        prof["blocksize"] = 256
    if interleave:
        prof["interleave"] = interleave
    if crs is None:
        del prof["crs"]
    if tr is None:
        del prof["transform"]
    names = descriptions or (BANDS + ["SCL"])[: dn.shape[0]]
    with rasterio.MemoryFile() as mem:
        with mem.open(**prof) as dst:
            dst.write(dn)
            for i, d in enumerate(names, 1):
                dst.set_band_description(i, d)
            if tags:
                dst.update_tags(**tags)
        return mem.read()


def to_4326(dn, tr):
    """The same scene reprojected by GDAL to EPSG:4326 (nearest neighbour)."""
    h, w = dn.shape[1:]
    dst_tr, dw, dh = calculate_default_transform("EPSG:32648", "EPSG:4326", w, h,
                                                 *rasterio.transform.array_bounds(h, w, tr))
    out = np.zeros((dn.shape[0], dh, dw), np.uint16)
    reproject(dn, out, src_transform=tr, src_crs="EPSG:32648", dst_transform=dst_tr,
              dst_crs="EPSG:4326", resampling=Resampling.nearest, src_nodata=0, dst_nodata=0)
    return out, dst_tr


def png_bytes():
    with rasterio.MemoryFile() as mem:
        with mem.open(driver="PNG", dtype="uint8", count=1, height=4, width=4) as dst:
            dst.write(np.ones((1, 4, 4), np.uint8))
        return mem.read()


if __name__ == "__main__":
    dn, tr, n, _ = stack()
    with open("s2_hongfeng_sim.tif", "wb") as f:
        f.write(write(dn, tr, tags={"BOA_ADD_OFFSET": "-1000"}))
    print(f"s2_hongfeng_sim.tif: {n} scum pixels = {n * RES * RES / 1e6} km²")
