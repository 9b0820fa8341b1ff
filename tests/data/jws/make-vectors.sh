#!/usr/bin/env bash
# Regenerates the JWS and JWK vectors of tests/unit/test_pki_jws.c with an
# implementation independent of ours: openssl makes the keys and the
# signatures, and python3 (standard library only) reads the public keys'
# DER by hand, turns DER ECDSA signatures into the fixed-size R||S of
# RFC 7518 3.4, and computes RFC 7638 thumbprints with hashlib.
#
# Every file holds "name value" lines ('#' starts a comment):
#   kty crv n e x y   the JWK members, base64url (RFC 7518 6)
#   canonical         RFC 7638 3.2 JSON of the required members
#   thumbprint        base64url(SHA-256(canonical))
#   sig ALG INPUT SIG a signature SIG (base64url) by the key over the ASCII
#                     INPUT (protected "." payload) with JWS alg ALG
#
# rfc*.txt are the examples of RFC 7515 A.2/A.3, RFC 8037 A.4 and RFC 7638
# 3.1, copied from the RFCs; this script checks each with openssl before
# writing it. jwk-of-csr-*.txt are the keys of tests/data/csr-*.pem: run
# this again after gen-csr-fixtures.sh. cert-*.der are self-signed
# certificates: of keys we refuse, or (with jwk-of-cert-*.txt) of P-256
# keys whose coordinates start with a zero byte.
#
# The seeds of tests/fuzz/fuzz_jws.c are made from these vectors, into
# $CORPUS (default: tests/fuzz/corpus/jws).
#
# Usage: tests/data/jws/make-vectors.sh [output dir, default: this folder]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Keys, thrown away with $tmp: no test needs a private key.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$tmp/rsa-2048.key" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 \
    -out "$tmp/rsa-4096.key" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -pkeyopt rsa_keygen_pubexp:3 -out "$tmp/rsa-2048-e3.key" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 \
    -out "$tmp/rsa-1024.key" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$tmp/ec-p256.key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
    -out "$tmp/ec-p384.key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 \
    -out "$tmp/ec-p521.key"
openssl genpkey -algorithm ED25519 -out "$tmp/ed25519.key"
openssl genpkey -algorithm ED448 -out "$tmp/ed448.key"

# Self-signed certificates of keys we refuse (pki_jwk_from_cert reads the
# key only; our CA would not issue for these).
openssl req -x509 -key "$tmp/rsa-1024.key" -subj /CN=weak.example.com \
    -days 30 -outform DER -out "$out/cert-rsa-1024-weak.der"
openssl req -x509 -key "$tmp/ed448.key" -subj /CN=ed448.example.com \
    -days 30 -outform DER -out "$out/cert-ed448-unsupported.der"
# and one we take, for the fuzz seeds only
openssl req -x509 -key "$tmp/ec-p256.key" -subj /CN=p256.example.com \
    -days 30 -outform DER -out "$tmp/cert-ec-p256.der"

TMP=$tmp OUT=$out DATA=$here/.. python3 - <<'PY'
import base64
import hashlib
import json
import os
import subprocess

TMP, OUT, DATA = os.environ["TMP"], os.environ["OUT"], os.environ["DATA"]


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def openssl(*args, data=None):
    return subprocess.run(("openssl",) + args, input=data, check=True,
                          capture_output=True).stdout


# --- DER, by hand (X.690): just what SubjectPublicKeyInfo and
# ECDSA-Sig-Value need.
def tlv(buf, pos=0):
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    return tag, buf[pos:pos + n], pos + n


def seq_items(content):
    items, pos = [], 0
    while pos < len(content):
        tag, val, pos = tlv(content, pos)
        items.append((tag, val))
    return items


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def der_uint(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return der(0x02, b)


OID_RSA = bytes.fromhex("2a864886f70d010101")
OID_EC = bytes.fromhex("2a8648ce3d0201")
OID_P256 = bytes.fromhex("2a8648ce3d030107")
OID_P384 = bytes.fromhex("2b81040022")
OID_P521 = bytes.fromhex("2b81040023")
OID_ED25519 = bytes.fromhex("2b6570")
OID_ED448 = bytes.fromhex("2b6571")
CURVES = {OID_P256: ("P-256", 32), OID_P384: ("P-384", 48),
          OID_P521: ("P-521", 66)}


def spki_to_jwk(spki):
    _, body, _ = tlv(spki)
    (_, algid), (_, bits) = seq_items(body)
    alg = seq_items(algid)
    oid = alg[0][1]
    key = bits[1:]  # BIT STRING: no unused bits
    if oid == OID_RSA:
        _, rsakey, _ = tlv(key)
        (_, n), (_, e) = seq_items(rsakey)
        return {"kty": "RSA", "n": b64u(n.lstrip(b"\0")),
                "e": b64u(e.lstrip(b"\0"))}
    if oid == OID_EC:
        crv, size = CURVES[alg[1][1]]
        assert key[0] == 4 and len(key) == 1 + 2 * size
        return {"kty": "EC", "crv": crv, "x": b64u(key[1:1 + size]),
                "y": b64u(key[1 + size:])}
    if oid == OID_ED25519:
        return {"kty": "OKP", "crv": "Ed25519", "x": b64u(key)}
    if oid == OID_ED448:
        return {"kty": "OKP", "crv": "Ed448", "x": b64u(key)}
    raise ValueError("unknown key")


def jwk_to_spki(jwk):
    if jwk["kty"] == "RSA":
        algid = der(0x30, der(0x06, OID_RSA) + b"\x05\x00")
        key = der(0x30, der_uint(unb64u(jwk["n"])) + der_uint(unb64u(jwk["e"])))
    elif jwk["kty"] == "EC":
        oid = {"P-256": OID_P256, "P-384": OID_P384}[jwk["crv"]]
        algid = der(0x30, der(0x06, OID_EC) + der(0x06, oid))
        key = b"\x04" + unb64u(jwk["x"]) + unb64u(jwk["y"])
    else:
        algid = der(0x30, der(0x06, OID_ED25519))
        key = unb64u(jwk["x"])
    return der(0x30, algid + der(0x03, b"\0" + key))


REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"),
            "OKP": ("crv", "kty", "x")}


def canonical(jwk):
    # RFC 7638 3.2: required members only, sorted, no whitespace
    req = {k: jwk[k] for k in REQUIRED[jwk["kty"]]}
    return json.dumps(req, sort_keys=True, separators=(",", ":"))


def thumbprint(jwk):
    return b64u(hashlib.sha256(canonical(jwk).encode()).digest())


# --- signatures
HASH = {"RS256": "-sha256", "ES256": "-sha256", "ES384": "-sha384"}
SIZE = {"ES256": 32, "ES384": 48}


def sign(keyfile, alg, text):
    path = os.path.join(TMP, "input")
    with open(path, "wb") as f:
        f.write(text.encode())
    if alg == "EdDSA":
        return openssl("pkeyutl", "-sign", "-rawin", "-inkey", keyfile,
                       "-in", path)
    sig = openssl("dgst", HASH[alg], "-sign", keyfile, path)
    if alg == "RS256":
        return sig
    # RFC 7518 3.4: R and S as fixed-size unsigned big-endian integers
    _, body, _ = tlv(sig)
    (_, r), (_, s) = seq_items(body)
    size = SIZE[alg]
    r, s = r.lstrip(b"\0"), s.lstrip(b"\0")
    return r.rjust(size, b"\0") + s.rjust(size, b"\0")


def verify(jwk, alg, text, sig):
    """openssl's answer for a JWS signature: True or False."""
    pub = os.path.join(TMP, "pub.der")
    with open(pub, "wb") as f:
        f.write(jwk_to_spki(jwk))
    with open(os.path.join(TMP, "input"), "wb") as f:
        f.write(text.encode())
    if alg.startswith("ES"):
        half = len(sig) // 2
        sig = der(0x30, der_uint(sig[:half]) + der_uint(sig[half:]))
    with open(os.path.join(TMP, "sig"), "wb") as f:
        f.write(sig)
    if alg == "EdDSA":
        args = ("pkeyutl", "-verify", "-rawin", "-pubin", "-keyform", "DER",
                "-inkey", pub, "-in", os.path.join(TMP, "input"),
                "-sigfile", os.path.join(TMP, "sig"))
    else:
        args = ("dgst", HASH[alg], "-keyform", "DER", "-verify", pub,
                "-signature", os.path.join(TMP, "sig"),
                os.path.join(TMP, "input"))
    return subprocess.run(("openssl",) + args, capture_output=True).returncode == 0


def pubkey_jwk(keyfile):
    return spki_to_jwk(openssl("pkey", "-in", keyfile, "-pubout",
                               "-outform", "DER"))


def acme_input(alg, jwk, i, payload=True):
    protected = {"alg": alg, "jwk": jwk, "nonce": "nonce-%d" % i,
                 "url": "https://warden.test/acme/new-account"}
    body = {"termsOfServiceAgreed": True,
            "contact": ["mailto:ops-%d@example.com" % i]}
    p = b64u(json.dumps(protected, separators=(",", ":")).encode())
    return p + "." + (b64u(json.dumps(body).encode()) if payload else "")


def write(name, comment, jwk, sigs):
    lines = ["# " + c for c in comment]
    for k in ("kty", "crv", "n", "e", "x", "y"):
        if k in jwk:
            lines.append("%s %s" % (k, jwk[k]))
    if jwk["kty"] in REQUIRED and jwk.get("crv") not in ("P-521", "Ed448"):
        lines.append("canonical " + canonical(jwk))
        lines.append("thumbprint " + thumbprint(jwk))
    for note, alg, text, sig in sigs:
        assert verify(jwk, alg, text, sig), name
        lines.append("# " + note)
        lines.append("sig %s %s %s" % (alg, text, b64u(sig)))
    with open(os.path.join(OUT, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def signed_key(name, keyfile, alg, comment):
    jwk = pubkey_jwk(os.path.join(TMP, keyfile))
    key = os.path.join(TMP, keyfile)
    sigs = []
    for i in range(3):
        text = acme_input(alg, jwk, i)
        sigs.append(("an ACME request", alg, text, sign(key, alg, text)))
    text = acme_input(alg, jwk, 3, payload=False)
    sigs.append(("POST-as-GET: an empty payload (RFC 8555 6.3)", alg, text,
                 sign(key, alg, text)))
    if alg in SIZE:
        # R||S whose R, then S, starts with a zero byte: the DER INTEGER
        # is shorter than the fixed-size field, and must still verify
        for half, what in ((0, "R"), (1, "S")):
            for i in range(100, 100000):
                text = acme_input(alg, jwk, i)
                sig = sign(key, alg, text)
                if sig[half * SIZE[alg]] == 0:
                    sigs.append((what + " starts with a zero byte", alg,
                                 text, sig))
                    break
    write(name, comment, jwk, sigs)


signed_key("rs256-2048.txt", "rsa-2048.key", "RS256",
           ["RSA 2048, e = 65537: RS256 signatures by openssl"])
signed_key("rs256-4096.txt", "rsa-4096.key", "RS256",
           ["RSA 4096: RS256 signatures by openssl"])
signed_key("rs256-2048-e3.txt", "rsa-2048-e3.key", "RS256",
           ["RSA 2048 with e = 3, the smallest exponent we take"])
signed_key("es256.txt", "ec-p256.key", "ES256",
           ["ECDSA P-256: ES256 signatures by openssl as R||S"])
signed_key("es384.txt", "ec-p384.key", "ES384",
           ["ECDSA P-384: ES384 signatures by openssl as R||S"])
signed_key("eddsa.txt", "ed25519.key", "EdDSA",
           ["Ed25519: EdDSA signatures by openssl (RFC 8037)"])

# Keys we refuse, without signatures.
write("rsa-1024-weak.txt", ["RSA 1024: below 2048 bits"],
      pubkey_jwk(os.path.join(TMP, "rsa-1024.key")), [])
write("ec-p521-unsupported.txt", ["ECDSA P-521: no ES512 here"],
      pubkey_jwk(os.path.join(TMP, "ec-p521.key")), [])
write("ed448-unsupported.txt", ["Ed448: not Ed25519"],
      pubkey_jwk(os.path.join(TMP, "ed448.key")), [])

# The keys of the CSR fixtures, for the certificates the tests issue.
for csr in ("csr-ecdsa-p256.pem", "csr-ecdsa-p384.pem", "csr-rsa-2048.pem",
            "csr-ed25519.pem"):
    pem = openssl("req", "-in", os.path.join(DATA, csr), "-pubkey", "-noout")
    spki = openssl("pkey", "-pubin", "-pubout", "-outform", "DER", data=pem)
    write("jwk-of-" + csr.replace(".pem", ".txt"),
          ["the public key of tests/data/" + csr], spki_to_jwk(spki), [])

# P-256 keys whose x, then y, starts with a zero byte, and a self-signed
# certificate of each: GnuTLS exports coordinates without leading zeros,
# a JWK has them (RFC 7518 6.2.1.2).
for half, what in ((0, "x"), (1, "y")):
    key = os.path.join(TMP, "zero-" + what + ".key")
    for _ in range(5000):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-out", key)
        jwk = pubkey_jwk(key)
        if unb64u(jwk[what])[0] == 0:
            break
    else:
        raise SystemExit("no P-256 key with a zero byte in front of " + what)
    name = "ec-p256-%s-leading-zero" % what
    openssl("req", "-x509", "-key", key, "-subj", "/CN=zero.example.com",
            "-days", "30", "-outform", "DER", "-out",
            os.path.join(OUT, "cert-" + name + ".der"))
    write("jwk-of-cert-" + name + ".txt",
          ["the key of cert-%s.der: %s starts with a zero byte" % (name, what)],
          jwk, [])

# The RFCs' examples, as printed there.
PAYLOAD_7515 = ("eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6"
                "Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ")
RFC7515_A2 = {"kty": "RSA", "e": "AQAB", "n": (
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx"
    "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs"
    "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH"
    "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV"
    "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8"
    "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ")}
SIG_A2 = ("cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
          "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
          "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
          "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
          "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
          "p0igcN_IoypGlUPQGe77Rw")
write("rfc7515-a2-rs256.txt", ["RFC 7515 appendix A.2: RS256"], RFC7515_A2,
      [("A.2.1", "RS256", "eyJhbGciOiJSUzI1NiJ9." + PAYLOAD_7515,
        unb64u(SIG_A2))])

RFC7515_A3 = {"kty": "EC", "crv": "P-256",
              "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
              "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
SIG_A3 = ("DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
          "pmWQxfKTUJqPP3-Kg6NU1Q")
write("rfc7515-a3-es256.txt", ["RFC 7515 appendix A.3: ES256"], RFC7515_A3,
      [("A.3.1", "ES256", "eyJhbGciOiJFUzI1NiJ9." + PAYLOAD_7515,
        unb64u(SIG_A3))])

RFC8037_A2 = {"kty": "OKP", "crv": "Ed25519",
              "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
SIG_A4 = ("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5B"
          "hVsPt9g7sVvpAr_MuM0KAg")
# RFC 8037 A.3 gives this key's thumbprint
assert thumbprint(RFC8037_A2) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
write("rfc8037-a4-eddsa.txt", ["RFC 8037 appendices A.2 (key), A.3 "
                               "(thumbprint) and A.4: EdDSA"], RFC8037_A2,
      [("A.4", "EdDSA",
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc",
        unb64u(SIG_A4))])

RFC7638 = {"kty": "RSA", "e": "AQAB", "n": (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aP"
    "FFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl9"
    "3lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdA"
    "ZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
    "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")}
# RFC 7638 3.1 gives this thumbprint
assert thumbprint(RFC7638) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
write("rfc7638-thumbprint.txt", ["RFC 7638 section 3.1"], RFC7638, [])
PY

# Seeds for tests/fuzz/fuzz_jws.c from the vectors just written: a mode
# byte, then kty crv x y n e alg input sig separated by '\n'; or 0x80 and
# a DER certificate.
corpus=${CORPUS:-$(cd "$here/../../fuzz/corpus" && pwd)/jws}
mkdir -p "$corpus"
TMP=$tmp OUT=$out CORPUS=$corpus python3 - <<'PY'
import os

TMP, OUT, CORPUS = os.environ["TMP"], os.environ["OUT"], os.environ["CORPUS"]
MEMBERS = ("kty", "crv", "x", "y", "n", "e")


def load(name):
    kv, sigs = {}, []
    for line in open(os.path.join(OUT, name)):
        if line.startswith("#") or not line.strip():
            continue
        k, v = line.rstrip("\n").split(" ", 1)
        if k == "sig":
            sigs.append(v.split(" "))
        else:
            kv[k] = v
    return kv, sigs


def seed(name, mode, kv, sig=("", "", "")):
    fields = [kv.get(m, "") for m in MEMBERS] + list(sig)
    # absent members are dropped by the mode byte's bits
    for i, m in enumerate(MEMBERS):
        if m not in kv:
            mode |= 1 << i
    with open(os.path.join(CORPUS, name), "wb") as f:
        f.write(bytes([mode]) + "\n".join(fields).encode())


for name in ("rfc7515-a2-rs256", "rfc7515-a3-es256", "rfc8037-a4-eddsa",
             "rs256-2048", "es256", "es384", "eddsa"):
    kv, sigs = load(name + ".txt")
    seed(name + ".jws", 0, kv, sigs[0])
for name in ("rsa-1024-weak", "ec-p521-unsupported", "rfc7638-thumbprint"):
    kv, _ = load(name + ".txt")
    seed(name + ".jws", 0, kv)
kv, sigs = load("es256.txt")
seed("es256-as-es384.jws", 0, kv, ["ES384"] + sigs[0][1:])
seed("es256-no-y.jws", 1 << 3, kv, sigs[0])
kv["kty"] = "oct"
seed("oct.jws", 0, kv)
for name in ("cert-rsa-1024-weak", "cert-ed448-unsupported", "cert-ec-p256"):
    path = os.path.join(OUT if name != "cert-ec-p256" else TMP, name + ".der")
    with open(path, "rb") as f:
        der = f.read()
    with open(os.path.join(CORPUS, name + ".cert"), "wb") as f:
        f.write(b"\x80" + der)
PY
echo "wrote the vectors to $out and the fuzz seeds to $corpus"
