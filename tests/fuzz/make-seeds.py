#!/usr/bin/env python3
"""Regenerate tests/fuzz/corpus/spec/: the task-definition fixtures plus the
hostile seeds (the 27 crafted config.json cases of shared/reference/
security.md section 4.1, rewritten as ECS task definitions, and a few more
that aim at yajl and at our own limits).

    python3 tests/fuzz/make-seeds.py

The output is committed; this script only documents and rebuilds it."""

import json
import os
import shutil
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus", "spec")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
MIB = 1024 * 1024


def task(**container_extra):
    """A small valid task whose one container gets extra keys."""
    c = {"name": "app", "image": "busybox", "memory": 128, "command": ["sh", "-c", "true"]}
    c.update(container_extra)
    return {"family": "hostile", "containerDefinitions": [c]}


def dump(obj):
    return json.dumps(obj, ensure_ascii=False).encode()


BASE = dump(task())


def seeds():
    """(name, bytes) for every hostile seed."""
    # Case numbers follow the rows of security.md 4.1 (several rows hold
    # more than one case).
    yield "01-truncated", BASE[: len(BASE) // 2]
    yield "02-empty", b""
    yield "03-binary-garbage", b"\x7f\x00\xff\xfe{\x01\x02]\x80"
    yield "04-command-is-string", dump(task(command="echo hi"))
    yield "05-user-is-number", dump(task(user=0))
    yield "06-memory-string", dump(task(memory="128"))
    yield "07-memory-negative", dump(task(memory=-1))
    yield "08-memory-2pow32", dump(task(memory=2**32))
    # Duplicate key: a validator reading the first and a runtime reading
    # the last would disagree; we must refuse.
    yield "09-duplicate-command", BASE.replace(
        b'"command"', b'"command": ["/bin/evil"], "command"', 1
    )
    yield "10-unknown-top-level", dump(dict(task(), somethingNew={"a": 1}))
    yield "11-no-container-definitions", dump({"family": "x"})
    yield "12-no-image", dump({"family": "x", "containerDefinitions": [{"name": "a"}]})
    # 100k nested '[' inside an unknown field (crun/yajl_tree crashed at 500k).
    deep = b"[" * 100_000 + b"]" * 100_000
    yield "13-deep-100k-unknown-field", b'{"family":"x","deep":' + deep + b',"containerDefinitions":[]}'
    yield "14-deep-500k-unclosed", b"[" * 500_000
    yield "15-deep-5000", b'{"x":' + b"[" * 5000 + b"]" * 5000 + b"}"
    # The 64 MiB annotation, scaled to our cap: a label value just under it.
    big = "v" * (MIB - 200)
    yield "16-label-near-cap", dump(task(dockerLabels={"k": big}))
    yield "17-nul-in-command", BASE.replace(b'"true"', b'"he\\u0000llo"', 1)
    yield "18-nul-in-hostname", dump(task(hostname="a\u0000b"))
    yield "19-ulimit-1e30", dump(
        task(ulimits=[{"name": "nofile", "softLimit": 1e30, "hardLimit": 1e30}])
    ).replace(b"1e+30", b"1e30")
    yield "20-memory-1e20", BASE.replace(b'"memory": 128', b'"memory": 1e20')
    yield "21-invalid-utf8", BASE.replace(b"busybox", b"busy\xc3\x28box\xff")
    yield "22-relative-workdir", dump(task(workingDirectory="data/run"))
    yield "23-mount-dotdot", dump(
        dict(
            task(mountPoints=[{"sourceVolume": "v", "containerPath": "../../../../tmp/x"}]),
            volumes=[{"name": "v", "host": {"sourcePath": "/tmp"}}],
        )
    )
    yield "24-unknown-capability", dump(
        task(linuxParameters={"capabilities": {"add": ["SYS_EVERYTHING"], "drop": ["cap_bogus"]}})
    )
    yield "25-unknown-namespace-mode", dump(dict(task(), pidMode="container", ipcMode="vm"))
    yield "26-empty-command", dump(task(command=[], entryPoint=[]))
    yield "27-name-dotdot", dump(task(name="../x"))
    # Beyond the 27: yajl's known weak spots and our own limits.
    yield "28-surrogate-backslash-a", b'["\\ud800\\\\a"]'
    yield "29-surrogate-backslash-u", b'["\\ud800\\\\u"]'
    yield "30-lone-surrogates", dump(task(hostname="x")).replace(b'"x"', b'"\\udc00\\ud800"')
    yield "31-surrogate-pair-in-key", b'{"fam\\ud83d\\ude00ily": "x", "containerDefinitions": []}'
    yield "32-nul-in-key", b'{"family\\u0000": "x", "family": "y", "containerDefinitions": []}'
    yield "33-cap-plus-one", b" " * (MIB - len(BASE) + 1) + BASE
    yield "34-exactly-cap", b" " * (MIB - len(BASE)) + BASE
    yield "35-int64-edges", dump(task(memory=2**63, cpu=-(2**63) - 1, memoryReservation=2**63 - 1))
    yield "36-huge-number-literal", BASE.replace(b"128", b"1" + b"0" * 5000, 1)
    yield "37-float-where-int", dump(task(memory=128.0, cpu=0.5, stopTimeout=-0.0))
    yield "38-depth-64-objects", b'{"a":' * 63 + b"1" + b"}" * 63
    yield "39-depth-65-objects", b'{"a":' * 65 + b"1" + b"}" * 65
    yield "40-trailing-garbage", BASE + b"}{"
    yield "41-two-documents", BASE + b"\n" + BASE
    yield "42-comment", b"/* c */" + BASE
    yield "43-bom", b"\xef\xbb\xbf" + BASE
    yield "44-many-keys", dump(dict(task(), **{"k%05d" % i: i for i in range(20000)}))
    yield "45-many-duplicate-labels", b'{"family":"x","containerDefinitions":[{"name":"a","image":"b","memory":4,"dockerLabels":{' + b",".join(
        b'"k":"v"' for _ in range(5000)
    ) + b"}}]}"
    yield "46-overlong-utf8", BASE.replace(b"busybox", b"\xc0\xaf\xe0\x80\xaf")
    yield "47-control-chars", dump(task(environment=[{"name": "A\x01", "value": "\x1b[31m\n\t"}]))
    yield "48-bare-array", dump(task()["containerDefinitions"])
    yield "49-wrapped-describe", dump({"taskDefinition": task()})
    yield "50-many-containers", dump(
        {
            "family": "many",
            "containerDefinitions": [
                {"name": "c%d" % i, "image": "i", "memory": 4, "links": ["c%d" % (i - 1)]}
                for i in range(1000)
            ],
        }
    )
    yield "51-dependency-cycle", dump(
        {
            "family": "cyc",
            "containerDefinitions": [
                {"name": "a", "image": "i", "memory": 4, "dependsOn": [{"containerName": "b", "condition": "START"}]},
                {"name": "b", "image": "i", "memory": 4, "dependsOn": [{"containerName": "a", "condition": "START"}]},
            ],
        }
    )
    yield "52-long-strings", dump(
        task(name="n" * 300, hostname="h" * 70000, workingDirectory="/" + "d" * 5000)
    )
    yield "53-units-odd", dump(dict(task(), cpu=" .5 vCPU ", memory="0x200 GiB"))
    yield "54-whitespace-only", b" \n\t\r\n"
    yield "55-deep-in-container", dump(task(dockerLabels={"a": "b"})).replace(
        b'{"a": "b"}', b'{"a":' + b"[" * 70 + b"]" * 70 + b"}"
    )


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.unlink(os.path.join(OUT, old))
    n = 0
    for kind in ("valid", "invalid"):
        d = os.path.join(FIXTURES, kind)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith(".json"):
                shutil.copyfile(os.path.join(d, f), os.path.join(OUT, "fixture-%s-%s" % (kind, f)))
                n += 1
    for name, data in seeds():
        with open(os.path.join(OUT, "hostile-%s.json" % name), "wb") as fh:
            fh.write(data)
        n += 1
    print("wrote %d seeds to %s" % (n, os.path.relpath(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
