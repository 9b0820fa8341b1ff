#!/usr/bin/env bash
# Regenerates the CSR fixtures of the PKI unit tests (tests/unit/test_pki_*.c)
# with openssl. Each file is named for what it is or for its flaw; the tests
# say what pki_csr_parse must answer for it. Private keys are generated in a
# temporary directory and thrown away: no test needs them.
#
# Usage: tests/data/gen-csr-fixtures.sh [output dir, default: this folder]
set -euo pipefail

out=${1:-$(cd "$(dirname "$0")" && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A config with no defaults, so that a CSR holds only what each call asks.
cat >"$tmp/req.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
EOF

# req NAME SUBJECT KEYOPTS [openssl req options...]: a PEM CSR in $out/NAME
# signed by a fresh key made with "openssl genpkey KEYOPTS".
req() {
    local name=$1 subj=$2 keyopts=$3
    shift 3
    # shellcheck disable=SC2086
    openssl genpkey $keyopts -out "$tmp/$name.key" 2>/dev/null
    openssl req -new -config "$tmp/req.cnf" -key "$tmp/$name.key" \
        -subj "$subj" "$@" -out "$out/$name"
}

P256="-algorithm EC -pkeyopt ec_paramgen_curve:P-256"
RSA2048="-algorithm RSA -pkeyopt rsa_keygen_bits:2048"

# Accepted keys, each with a DNS SAN matching its CN.
req csr-ecdsa-p256.pem /CN=p256.example.com "$P256" \
    -addext subjectAltName=DNS:p256.example.com
req csr-ecdsa-p384.pem /CN=p384.example.com \
    "-algorithm EC -pkeyopt ec_paramgen_curve:P-384" \
    -addext subjectAltName=DNS:p384.example.com
req csr-ecdsa-p521.pem /CN=p521.example.com \
    "-algorithm EC -pkeyopt ec_paramgen_curve:P-521" \
    -addext subjectAltName=DNS:p521.example.com
req csr-rsa-2048.pem /CN=rsa2048.example.com "$RSA2048" \
    -addext subjectAltName=DNS:rsa2048.example.com
openssl req -in "$out/csr-rsa-2048.pem" -outform DER \
    -out "$out/csr-rsa-2048.der"
req csr-ed25519.pem /CN=ed25519.example.com "-algorithm ED25519" \
    -addext subjectAltName=DNS:ed25519.example.com

# Signature algorithms other than the key's default: RSA-PSS (salt the
# hash's length, which GnuTLS verifies, and 20 octets, which it refuses),
# SHA-1 and SHA-512. The self-signature is proof of possession only; the
# certificate is signed with the CA's own hash.
req csr-rsa-pss.pem /CN=pss.example.com "$RSA2048" \
    -addext subjectAltName=DNS:pss.example.com \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest
req csr-rsa-pss-salt20.pem /CN=pss20.example.com "$RSA2048" \
    -addext subjectAltName=DNS:pss20.example.com \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:20
req csr-ecdsa-sha1.pem /CN=sha1.example.com "$P256" \
    -addext subjectAltName=DNS:sha1.example.com -sha1
req csr-rsa-sha1.pem /CN=rsasha1.example.com "$RSA2048" \
    -addext subjectAltName=DNS:rsasha1.example.com -sha1
req csr-ecdsa-sha512.pem /CN=sha512.example.com "$P256" \
    -addext subjectAltName=DNS:sha512.example.com -sha512

# The older PEM label some tools still write.
sed 's/CERTIFICATE REQUEST-----/NEW CERTIFICATE REQUEST-----/' \
    "$out/csr-ecdsa-p256.pem" >"$out/csr-new-label.pem"

# Keys we refuse: too small, or an algorithm or curve we never sign.
req csr-rsa-1024-weak.pem /CN=weak.example.com \
    "-algorithm RSA -pkeyopt rsa_keygen_bits:1024"
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 \
    -out "$tmp/dsa.param" 2>/dev/null
req csr-dsa-2048.pem /CN=dsa.example.com "-paramfile $tmp/dsa.param"
req csr-brainpool-unsupported.pem /CN=brainpool.example.com \
    "-algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1"
req csr-ecdsa-p224.pem /CN=p224.example.com \
    "-algorithm EC -pkeyopt ec_paramgen_curve:P-224"
req csr-ed448.pem /CN=ed448.example.com "-algorithm ED448"

# Names: a CN-only host (becomes a DNS SAN), a CN that is no host name, an
# empty subject with a SAN, and a subject that names nothing.
req csr-cn-only-host.pem /CN=host.example.com "$P256"
req csr-cn-only-ip.pem /CN=192.0.2.7 "$P256"
req csr-cn-only-not-host.pem "/CN=Alice Smith/O=Example" "$P256"
req csr-empty-subject-san.pem / "$P256" \
    -addext subjectAltName=DNS:nosubject.example.com
req csr-no-names.pem /O=Example "$P256"
req csr-sans-mixed.pem /CN=mixed.example.com "$P256" -addext \
    "subjectAltName=DNS:Mixed.Example.COM,DNS:*.mixed.example.com,IP:192.0.2.10,IP:2001:db8::10,email:ops@example.com,URI:spiffe://example.org/ns/x"
sans=DNS:h1.example.com
for i in $(seq 2 101); do
    sans="$sans,DNS:h$i.example.com"
done
req csr-many-sans.pem /CN=h1.example.com "$P256" -addext "subjectAltName=$sans"

# A request that asks to be a CA: issuance must ignore all of it.
req csr-asks-ca-true.pem /CN=ca-wannabe.example.com "$P256" \
    -addext "subjectAltName=DNS:ca-wannabe.example.com" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "extendedKeyUsage=codeSigning"

# Bad names.
req csr-bad-dns.pem /CN=bad.example.com "$P256" \
    -addext subjectAltName=DNS:a..b.com
req csr-non-ascii-dns.pem /CN=idn.example.com "$P256" \
    -addext $'subjectAltName=DNS:b\xc3\xbccher.example.com'
req csr-othername-san.pem /CN=upn.example.com "$P256" -addext \
    "subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user@example.com"
req csr-bad-email.pem /CN=mail.example.com "$P256" \
    -addext subjectAltName=email:no-at-sign.example.com
req csr-bad-uri.pem /CN=uri.example.com "$P256" \
    -addext subjectAltName=URI:no-scheme
req csr-cn-control-char.pem $'/CN=a\x01b.example.com' "$P256"
# dNSName "a\0b.example.com": an embedded NUL (GeneralNames, hand-encoded).
req csr-dns-with-nul.pem /CN=nul.example.com "$P256" \
    -addext 2.5.29.17=DER:3011820f6100622e6578616d706c652e636f6d
# Two subjectAltName extensions in one request (RFC 5280 4.2: at most one).
req csr-two-san-extensions.pem /CN=two.example.com "$P256" \
    -addext subjectAltName=DNS:a.example.com \
    -addext 2.5.29.17=DER:300f820d622e6578616d706c652e636f6d

# Two extensionRequest attributes, each with a SAN: openssl req cannot write
# that, so the request is assembled with asn1parse -genconf and signed.
openssl genpkey $P256 -out "$tmp/two.key" 2>/dev/null
point=$(openssl pkey -in "$tmp/two.key" -pubout -outform DER | tail -c 65 |
    xxd -p | tr -d '\n')
cat >"$tmp/info.cnf" <<EOF
asn1 = SEQUENCE:info
[info]
version = INTEGER:0
subject = SEQUENCE:subject
spki = SEQUENCE:spki
attrs = IMPLICIT:0C,SET:attrs
[subject]
rdn = SET:rdn
[rdn]
cn = SEQUENCE:cn
[cn]
type = OID:commonName
value = UTF8:two-requests.example.com
[spki]
alg = SEQUENCE:spki_alg
key = FORMAT:HEX,BITSTRING:$point
[spki_alg]
alg = OID:id-ecPublicKey
curve = OID:prime256v1
[attrs]
first = SEQUENCE:req_a
second = SEQUENCE:req_b
[req_a]
type = OID:extReq
values = SET:exts_a
[exts_a]
exts = SEQUENCE:list_a
[list_a]
san = SEQUENCE:san_a
[san_a]
id = OID:subjectAltName
value = FORMAT:HEX,OCTETSTRING:300f820d612e6578616d706c652e636f6d
[req_b]
type = OID:extReq
values = SET:exts_b
[exts_b]
exts = SEQUENCE:list_b
[list_b]
san = SEQUENCE:san_b
[san_b]
id = OID:subjectAltName
value = FORMAT:HEX,OCTETSTRING:300f820d622e6578616d706c652e636f6d
EOF
openssl asn1parse -genconf "$tmp/info.cnf" -out "$tmp/info.der" >/dev/null
openssl dgst -sha256 -sign "$tmp/two.key" -out "$tmp/info.sig" "$tmp/info.der"
{
    sed 's/^asn1 = SEQUENCE:info$/asn1 = SEQUENCE:csr/' "$tmp/info.cnf"
    echo "[csr]"
    echo "info = SEQUENCE:info"
    echo "alg = SEQUENCE:sig_alg"
    echo "sig = FORMAT:HEX,BITSTRING:$(xxd -p "$tmp/info.sig" | tr -d '\n')"
    echo "[sig_alg]"
    echo "alg = OID:ecdsa-with-SHA256"
} >"$tmp/csr.cnf"
openssl asn1parse -genconf "$tmp/csr.cnf" -out "$tmp/two.der" >/dev/null
openssl req -inform DER -in "$tmp/two.der" \
    -out "$out/csr-two-extension-requests.pem"

# Encoding flaws, derived from the good RSA request.
der="$out/csr-rsa-2048.der"
# One flipped bit in the last byte, which lies in the signature.
cp "$der" "$tmp/bad.der"
size=$(stat -c %s "$tmp/bad.der")
last=$(od -An -tu1 -j $((size - 1)) -N1 "$tmp/bad.der" | tr -d ' ')
printf "$(printf '\\%03o' $((last ^ 1)))" |
    dd of="$tmp/bad.der" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
openssl base64 -in "$tmp/bad.der" |
    { echo "-----BEGIN CERTIFICATE REQUEST-----"; cat;
      echo "-----END CERTIFICATE REQUEST-----"; } >"$out/csr-bad-signature.pem"
{ cat "$der"; printf 'garbage'; } >"$out/csr-trailing-garbage.der"
cat "$out/csr-ecdsa-p256.pem" "$out/csr-ecdsa-p384.pem" >"$out/csr-two-blocks.pem"
# Characters outside the base64 alphabet in the third line.
sed '3s/^..../!*#%/' "$out/csr-rsa-2048.pem" >"$out/csr-corrupt-base64.pem"
{ cat "$out/csr-rsa-2048.pem"; echo "trailing words"; } \
    >"$out/csr-pem-trailing-text.pem"

# Hostile sizes: a thousand SANs, a DNS name over 253 characters (each
# label a legal 63), and an RSA-16384 key (slow: minutes to generate).
sans=DNS:k1.example.com
for i in $(seq 2 1000); do
    sans="$sans,DNS:k$i.example.com"
done
req csr-1000-sans.pem /CN=k1.example.com "$P256" -addext "subjectAltName=$sans"
l63=$(printf 'a%.0s' $(seq 1 63))
req csr-long-dns.pem /CN=long.example.com "$P256" \
    -addext "subjectAltName=DNS:$l63.$l63.$l63.$l63.example.com"
if [ "${WARDEN_SLOW_FIXTURES:-0}" = 1 ]; then
    req csr-rsa-16384.pem /CN=huge.example.com \
        "-algorithm RSA -pkeyopt rsa_keygen_bits:16384"
fi
