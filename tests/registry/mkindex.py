#!/usr/bin/env python3
"""Add multi-platform indexes to an OCI layout and write a docker-archive.

Usage: mkindex.py LAYOUT ARCHIVE.tar. Tags `multiarch` (amd64 + arm64) and
`armonly` (arm64 only) point at image indexes; ARCHIVE is `multi` in the
`docker save` format (manifest.json, <hex>.json config, <id>/layer.tar)."""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

layout, archive = sys.argv[1], sys.argv[2]


def blob_path(digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])


def read_blob(digest):
    with open(blob_path(digest), "rb") as f:
        return f.read()


def put_blob(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(blob_path(digest), "wb") as f:
        f.write(data)
    return digest, len(data)


index_path = os.path.join(layout, "index.json")
index = json.load(open(index_path))


def by_tag(tag):
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m
    raise SystemExit("no tag " + tag)


multi = by_tag("multi")
manifest = json.loads(read_blob(multi["digest"]))
config = json.loads(read_blob(manifest["config"]["digest"]))
arm_config = dict(config, architecture="arm64")
arm_config["config"] = dict(config.get("config", {}), Env=["ARCH=arm64"])
cd, cs = put_blob(json.dumps(arm_config).encode())
arm_manifest = dict(manifest, config=dict(manifest["config"], digest=cd, size=cs))
md, ms = put_blob(json.dumps(arm_manifest).encode())
arm_desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
            "size": ms, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}
amd_desc = {"mediaType": multi["mediaType"], "digest": multi["digest"], "size": multi["size"],
            "platform": {"os": "linux", "architecture": "amd64"}}
for tag, entries in (("multiarch", [arm_desc, amd_desc]), ("armonly", [arm_desc])):
    doc = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
           "manifests": entries}
    d, s = put_blob(json.dumps(doc).encode())
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get(
                              "org.opencontainers.image.ref.name") != tag]
    index["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json",
                               "digest": d, "size": s,
                               "annotations": {"org.opencontainers.image.ref.name": tag}})
json.dump(index, open(index_path, "w"))

# docker-archive: uncompressed layers, config named by its digest.
with tarfile.open(archive, "w") as tar:
    def add(name, data):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    cfg = read_blob(manifest["config"]["digest"])
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    add(cfg_name, cfg)
    names = []
    for i, layer in enumerate(manifest["layers"]):
        data = read_blob(layer["digest"])
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        name = "%02d%s/layer.tar" % (i, hashlib.sha256(data).hexdigest()[:20])
        add(name, data)
        names.append(name)
    add("manifest.json", json.dumps([{"Config": cfg_name, "RepoTags": ["skiff/test:multi"],
                                      "Layers": names}]).encode())
