#!/usr/bin/env python3
"""Reference tokens of Python AuthX 1.7.1 (PyJWT 2.x, HS256), standard library only.

PyJWT cannot be installed where the Go tests run, so this script re-implements,
byte for byte, what AuthX and PyJWT do for HS256:

  * jwt.encode: header {"alg":"HS256","typ":"JWT"} (+ extra headers) dumped
    with separators=(",", ":") and sort_keys=True; payload dumped with
    separators=(",", ":") in insertion order (ensure_ascii, so non-ASCII is
    written as \\uXXXX escapes); unpadded base64url; HMAC-SHA256.
  * AuthX create_access_token / create_refresh_token: claims in the order
    sub, jti, type, fresh (access only), csrf, iat, exp, aud, iss, scopes,
    then the custom data keys (login_type last, as an AuthX with a
    login_type adds it). iat is an int (TokenPayload's default factory), exp
    is a float: (now + expiry).timestamp(), exactly as timedelta.total_seconds
    computes it. csrf is a uuid4 when "cookies" is a token location, else "".
  * jwt.decode(algorithms=["HS256"]) followed by AuthX TokenPayload
    validation and the RequestToken type check, for the verify subcommand.

Usage:
  python3 testdata/authx_interop.py generate [OUT]
      Write the test vectors to OUT (default testdata/authx_vectors.json next
      to this script; "-" for stdout). The output is deterministic: fixed
      times, fixed secrets, jti/csrf uuids derived from the vector names.
  python3 testdata/authx_interop.py verify
      Read JSON lines {"secret", "token", "now", "audience", "issuer", "type"}
      from stdin ("now" is Unix seconds and required; "audience" (a string or
      a list), "issuer" and "type" may be null or absent) and print one JSON
      line per token: {"ok": bool, "error": "<AuthX exception>: <message>", "claims": {...}}.
"""

import base64
import hashlib
import hmac
import json
import sys
import uuid

ALGORITHM = "HS256"

SECRET = "authx-interop-vectors-hs256-secret-0123456789"
OTHER_SECRET = "another-service-hs256-secret-0123456789abcdef"

# 2026-01-01T00:00:00Z, and the instant the AuthX vectors are minted at: a
# real clock has microseconds, which end up in the float exp claim.
T0 = 1767225600
MINT_US = T0 * 10**6 + 123456

ACCESS_EXPIRES_US = 15 * 60 * 10**6  # JWT_ACCESS_TOKEN_EXPIRES, 15 minutes
REFRESH_EXPIRES_US = 20 * 86400 * 10**6  # JWT_REFRESH_TOKEN_EXPIRES, 20 days


# --- PyJWT 2.x -----------------------------------------------------------------


class PyJWTError(Exception):
    """Base of the PyJWT exceptions below (names as in jwt.exceptions)."""


class DecodeError(PyJWTError):
    pass


class InvalidSignatureError(DecodeError):
    pass


class InvalidAlgorithmError(PyJWTError):
    pass


class ExpiredSignatureError(PyJWTError):
    pass


class ImmatureSignatureError(PyJWTError):
    pass


class InvalidIssuedAtError(PyJWTError):
    pass


class InvalidAudienceError(PyJWTError):
    pass


class InvalidIssuerError(PyJWTError):
    pass


class MissingRequiredClaimError(PyJWTError):
    def __init__(self, claim):
        super().__init__(f'Token is missing the "{claim}" claim')


class InvalidSubjectError(PyJWTError):
    pass


class InvalidJTIError(PyJWTError):
    pass


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment):
    # jwt.utils.base64url_decode: re-pad, then urlsafe_b64decode.
    if isinstance(segment, str):
        segment = segment.encode("ascii")
    rem = len(segment) % 4
    if rem > 0:
        segment += b"=" * (4 - rem)
    return base64.urlsafe_b64decode(segment)


def hs256(key, signing_input):
    return hmac.new(key.encode("utf-8"), signing_input, hashlib.sha256).digest()


def jwt_encode(payload, key, headers=None):
    """jwt.encode(payload, key, algorithm="HS256", headers=headers)."""
    header = {"typ": "JWT", "alg": ALGORITHM}
    if headers:
        header.update(headers)
    json_header = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    json_payload = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    signing_input = (b64url_encode(json_header) + "." + b64url_encode(json_payload)).encode("ascii")
    return signing_input.decode("ascii") + "." + b64url_encode(hs256(key, signing_input))


def jwt_decode(token, key, now, audience=None, issuer=None):
    """jwt.decode(token, key, algorithms=["HS256"], audience=, issuer=), leeway 0."""
    if not isinstance(token, str) or not token:
        raise DecodeError("Invalid token type. Token must be a <class 'bytes'>")
    raw = token.encode("utf-8")
    try:
        signing_input, crypto_segment = raw.rsplit(b".", 1)
        header_segment, payload_segment = signing_input.split(b".", 1)
    except ValueError:
        raise DecodeError("Not enough segments")
    try:
        header_data = b64url_decode(header_segment)
    except (TypeError, ValueError):
        raise DecodeError("Invalid header padding")
    try:
        header = json.loads(header_data)
    except ValueError as e:
        raise DecodeError(f"Invalid header string: {e}")
    if not isinstance(header, dict):
        raise DecodeError("Invalid header string: must be a json object")
    try:
        payload_data = b64url_decode(payload_segment)
    except (TypeError, ValueError):
        raise DecodeError("Invalid payload padding")
    try:
        signature = b64url_decode(crypto_segment)
    except (TypeError, ValueError):
        raise DecodeError("Invalid crypto padding")
    if "kid" in header and not isinstance(header["kid"], str):
        raise DecodeError("Key ID header parameter must be a string")

    alg = header.get("alg")
    if not alg or alg != ALGORITHM:
        raise InvalidAlgorithmError("The specified alg value is not allowed")
    if not hmac.compare_digest(signature, hs256(key, signing_input)):
        raise InvalidSignatureError("Signature verification failed")

    try:
        payload = json.loads(payload_data)
    except ValueError as e:
        raise DecodeError(f"Invalid payload string: {e}")
    if not isinstance(payload, dict):
        raise DecodeError("Invalid payload string: must be a json object")

    # api_jwt._validate_claims. Numeric dates are truncated with int().
    if "iat" in payload:
        try:
            iat = int(payload["iat"])
        except (TypeError, ValueError):
            raise InvalidIssuedAtError("Issued At claim (iat) must be an integer.")
        if iat > now:
            raise ImmatureSignatureError("The token is not yet valid (iat)")
    if "nbf" in payload:
        try:
            nbf = int(payload["nbf"])
        except (TypeError, ValueError):
            raise DecodeError("Not Before claim (nbf) must be an integer.")
        if nbf > now:
            raise ImmatureSignatureError("The token is not yet valid (nbf)")
    if "exp" in payload:
        try:
            exp = int(payload["exp"])
        except (TypeError, ValueError):
            raise DecodeError("Expiration Time claim (exp) must be an integer.")
        if exp <= now:
            raise ExpiredSignatureError("Signature has expired")
    validate_iss(payload, issuer)
    validate_aud(payload, audience)
    if "sub" in payload and not isinstance(payload["sub"], str):
        raise InvalidSubjectError("Subject must be a string")
    if "jti" in payload and not isinstance(payload["jti"], str):
        raise InvalidJTIError("JWT ID must be a string")
    return payload


def validate_iss(payload, issuer):
    if issuer is None:
        return
    if "iss" not in payload:
        raise MissingRequiredClaimError("iss")
    if isinstance(issuer, str):
        if payload["iss"] != issuer:
            raise InvalidIssuerError("Invalid issuer")
    elif payload["iss"] not in issuer:
        raise InvalidIssuerError("Invalid issuer")


def validate_aud(payload, audience):
    if audience is None:
        if "aud" not in payload or not payload["aud"]:
            return
        # A token naming an audience needs an expected audience.
        raise InvalidAudienceError("Invalid audience")
    if "aud" not in payload or not payload["aud"]:
        raise MissingRequiredClaimError("aud")
    claims = payload["aud"]
    if isinstance(claims, str):
        claims = [claims]
    if not isinstance(claims, list) or any(not isinstance(c, str) for c in claims):
        raise InvalidAudienceError("Invalid claim format in token")
    if isinstance(audience, str):
        audience = [audience]
    if all(a not in claims for a in audience):
        raise InvalidAudienceError("Audience doesn't match")


# --- AuthX 1.7.1 ---------------------------------------------------------------


class AuthXError(Exception):
    """An AuthX exception: its class name is what verify reports."""

    def __init__(self, name, message):
        super().__init__(message)
        self.name = name


def decode_token(token, key, now, audience=None, issuer=None):
    """authx.token.decode_token: PyJWT errors mapped to AuthX exceptions."""
    if not token:
        raise AuthXError("JWTDecodeError", "Token must not be empty")
    try:
        return jwt_decode(token, key, now, audience=audience, issuer=issuer)
    except ExpiredSignatureError:
        raise AuthXError("TokenExpiredError", "Token has expired")
    except InvalidSignatureError:
        raise AuthXError("TokenInvalidSignatureError", "Signature verification failed")
    except InvalidAudienceError:
        raise AuthXError("TokenInvalidAudienceError", "Invalid audience")
    except InvalidIssuerError:
        raise AuthXError("TokenInvalidIssuerError", "Invalid issuer")
    except PyJWTError as e:
        raise AuthXError("JWTDecodeError", f"Invalid token: {e}")


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate_payload(payload):
    """TokenPayload.model_validate (pydantic v2, extra="allow"): the types of
    the known fields. Returns the type AuthX sees ("access" when absent)."""
    def bad(field):
        raise AuthXError("JWTDecodeError", f"1 validation error for TokenPayload\n{field}")

    if not isinstance(payload.get("sub"), str):
        bad("sub")
    for field in ("jti", "iss", "type", "csrf", "login_type"):
        if payload.get(field) is not None and not isinstance(payload[field], str):
            bad(field)
    for field in ("exp", "nbf", "iat"):
        if payload.get(field) is not None and not is_number(payload[field]):
            bad(field)
    aud = payload.get("aud")
    if aud is not None and not isinstance(aud, str):
        if not isinstance(aud, list) or any(not isinstance(a, str) for a in aud):
            bad("aud")
    scopes = payload.get("scopes")
    if scopes is not None:
        if not isinstance(scopes, list) or any(not isinstance(s, str) for s in scopes):
            bad("scopes")
    if "fresh" in payload and not isinstance(payload["fresh"], bool):
        bad("fresh")
    return payload.get("type", "access")


def verify(token, key, now, audience=None, issuer=None, want_type=None):
    """RequestToken.verify with verify_type (when want_type is set), no CSRF
    and no freshness check. Returns the decoded claims or raises AuthXError."""
    payload = decode_token(token, key, now, audience=audience, issuer=issuer)
    typ = validate_payload(payload)
    if want_type is not None and typ != want_type:
        msg = f"'{want_type}' token required, '{typ}' token received"
        if want_type == "access":
            raise AuthXError("AccessTokenRequiredError", msg)
        raise AuthXError("RefreshTokenRequiredError", msg)
    return payload


def fixed_uuid(label):
    """A uuid4-shaped id derived from label, so generation is reproducible."""
    digest = hashlib.sha256(("authx-interop:" + label).encode("utf-8")).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def timestamp(us):
    """datetime.timestamp() of an instant given in Unix microseconds: the
    float that timedelta.total_seconds() computes."""
    return us / 10**6


def authx_payload(
    name,
    uid,
    type,
    fresh=False,
    exp=None,
    data=None,
    audience=None,
    issuer=None,
    scopes=None,
    cookies=False,
    login_type=None,
):
    """The claims AuthX(config).create_access_token / create_refresh_token
    writes at MINT_US: TokenPayload(...).encode(...) -> create_token(...).
    exp defaults to now + JWT_ACCESS_TOKEN_EXPIRES / JWT_REFRESH_TOKEN_EXPIRES."""
    claims = {"sub": uid, "jti": fixed_uuid(name + "/jti"), "type": type}
    if type == "access":
        claims["fresh"] = fresh
    claims["csrf"] = fixed_uuid(name + "/csrf") if cookies else ""
    claims["iat"] = MINT_US // 10**6
    if exp is None:
        expiry_us = ACCESS_EXPIRES_US if type == "access" else REFRESH_EXPIRES_US
        exp = timestamp(MINT_US + expiry_us)
    claims["exp"] = exp
    if audience:
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    if scopes is not None:
        claims["scopes"] = scopes
    for k, v in (data or {}).items():
        claims[k] = v
    if login_type is not None:
        claims["login_type"] = login_type
    return claims


def vector(name, covers, claims, now, key=SECRET, headers=None, want_type="access",
           audience=None, issuer=None, cookies=False, go_error="", deviation=""):
    token = jwt_encode(claims, key, headers=headers)
    try:
        verify(token, SECRET, now, audience=audience, issuer=issuer, want_type=want_type)
        python = {"ok": True, "error": ""}
    except AuthXError as e:
        python = {"ok": False, "error": f"{e.name}: {e}"}
    if python["ok"] != (go_error == "") and not deviation:
        raise SystemExit(f"{name}: AuthX says {python}, Go is expected to say {go_error or 'ok'}: "
                         "explain the deviation")
    v = {
        "name": name,
        "covers": covers,
        "secret": SECRET,
        "token": token,
        "now": now,
        "verify": {"type": want_type, "audience": audience, "issuer": issuer, "cookies": cookies},
        "claims": claims,
        "python": python,
        "go": {"ok": go_error == "", "error": go_error},
    }
    if deviation:
        v["go"]["deviation"] = deviation
    return v


def vectors():
    now = T0 + 60
    aud = "api.example.com"
    iss = "https://auth.example.com"
    out = []
    add = out.append

    add(vector("access-plain", "create_access_token(uid): header location only, so csrf is \"\"; "
               "iat int, exp float with microseconds (now + 15 min)",
               authx_payload("access-plain", "alice", "access"), now))
    add(vector("access-fresh", "create_access_token(uid, fresh=True)",
               authx_payload("access-fresh", "alice", "access", fresh=True), now))
    add(vector("refresh", "create_refresh_token(uid): type refresh, no fresh claim, exp now + 20 days",
               authx_payload("refresh", "alice", "refresh"), now, want_type="refresh"))
    add(vector("access-scopes", "scopes list including the wildcard admin:*",
               authx_payload("access-scopes", "alice", "access", scopes=["read", "write", "admin:*"]), now))
    add(vector("access-scopes-empty", "scopes=[]: an empty list is kept, distinct from no scopes claim",
               authx_payload("access-scopes-empty", "alice", "access", scopes=[]), now))
    add(vector("access-custom-data", "data= flattened at top level: string, int, float, bool, null, "
               "nested object, list",
               authx_payload("access-custom-data", "alice", "access", data={
                   "tenant": "acme",
                   "age": 42,
                   "ratio": 0.5,
                   "admin": True,
                   "nickname": None,
                   "profile": {"plan": "pro", "limits": {"rpm": 60, "burst": [1, 2]}},
                   "roles": ["editor", "viewer"],
               }), now))
    add(vector("access-unicode", "non-ASCII sub and data: json.dumps writes \\uXXXX escapes, "
               "astral characters as surrogate pairs",
               authx_payload("access-unicode", "zoë@例え.jp", "access",
                             data={"display": "Zoë ☃ 😀", "path": "a/b\\c\"d"}), now))
    add(vector("refresh-pair-data-scopes", "create_token_pair refresh half: same data, refresh_scopes",
               authx_payload("refresh-pair-data-scopes", "alice", "refresh", scopes=["refresh:rotate"],
                             data={"tenant": "acme"}), now, want_type="refresh"))
    add(vector("access-audience-string", "aud as a string (create_access_token(audience=...)), "
               "JWT_DECODE_AUDIENCE set",
               authx_payload("access-audience-string", "alice", "access", audience=aud), now,
               audience=[aud]))
    add(vector("access-audience-list", "aud as a list; any overlap with the expected audiences passes",
               authx_payload("access-audience-list", "alice", "access",
                             audience=[aud, "admin.example.com"]), now, audience=["admin.example.com"]))
    add(vector("access-issuer", "iss from JWT_ENCODE_ISSUER, checked against JWT_DECODE_ISSUER",
               authx_payload("access-issuer", "alice", "access", issuer=iss), now, issuer=iss))
    add(vector("access-all-optional", "aud, iss, scopes and data together, in AuthX order",
               authx_payload("access-all-optional", "alice", "access", fresh=True, audience=aud, issuer=iss,
                             scopes=["read"], data={"tenant": "acme"}), now, audience=[aud], issuer=iss))
    add(vector("access-cookie-csrf", "JWT_TOKEN_LOCATION has cookies: csrf is a uuid4",
               authx_payload("access-cookie-csrf", "alice", "access", cookies=True), now, cookies=True))
    add(vector("refresh-cookie-csrf", "refresh token with a csrf uuid4",
               authx_payload("refresh-cookie-csrf", "alice", "refresh", cookies=True), now,
               want_type="refresh", cookies=True))
    add(vector("access-login-type", "AuthX(login_type=\"admin\") (AuthManager) adds a login_type claim: "
               "custom data for us",
               authx_payload("access-login-type", "alice", "access", data={"tenant": "acme"},
                             login_type="admin"), now))
    add(vector("access-extra-header", "create_access_token(headers={...}): an extra JOSE header field",
               authx_payload("access-extra-header", "alice", "access"), now, headers={"x-tenant": "acme"}))
    # authx.token.create_token(uid, key, issued=1767225600.25, expiry=1767226500.75):
    # float iat, float exp, and csrf=None so no csrf claim at all.
    add(vector("lowlevel-float-iat", "low-level create_token: float iat and exp, no csrf claim",
               {"sub": "alice", "jti": fixed_uuid("lowlevel-float-iat/jti"), "type": "access",
                "fresh": False, "iat": T0 + 0.25, "exp": T0 + 900.75}, now))
    add(vector("access-exp-whole-float", "expiry=datetime: exp is a whole float (1767226500.0)",
               authx_payload("access-exp-whole-float", "alice", "access", exp=timestamp((T0 + 900) * 10**6)),
               now))
    add(vector("pyjwt-no-type", "a plain PyJWT token without a type claim: AuthX defaults type to "
               "\"access\", we refuse it",
               {"sub": "alice", "jti": fixed_uuid("pyjwt-no-type/jti"), "iat": T0, "exp": T0 + 900}, now,
               go_error="ErrMissingClaim",
               deviation="authx refuses a token without a type claim (AuthX defaults it to \"access\"), "
                         "so a token minted by another PyJWT service never passes as an AuthX access token"))
    add(vector("access-expired", "verified an hour after it was minted",
               authx_payload("access-expired", "alice", "access"), T0 + 3600, go_error="ErrExpired"))
    add(vector("access-expired-at-exp", "verified exactly at exp (1767226500.0): exp <= now is expired",
               authx_payload("access-expired-at-exp", "alice", "access", exp=timestamp((T0 + 900) * 10**6)),
               T0 + 900, go_error="ErrExpired"))
    add(vector("access-expired-fraction", "exp 1767226500.123456 verified at 1767226500: PyJWT truncates "
               "exp with int(), so the token is already expired",
               authx_payload("access-expired-fraction", "alice", "access"), T0 + 900, go_error="ErrExpired"))
    add(vector("access-iat-future", "verified 10 s before its iat",
               authx_payload("access-iat-future", "alice", "access"), T0 - 10, go_error="ErrIssuedInFuture"))
    add(vector("access-audience-unexpected", "aud in the token, no audience configured",
               authx_payload("access-audience-unexpected", "alice", "access", audience=aud), now,
               go_error="ErrAudience"))
    add(vector("access-audience-mismatch", "aud does not overlap the expected audience",
               authx_payload("access-audience-mismatch", "alice", "access", audience="other.example.com"), now,
               audience=[aud], go_error="ErrAudience"))
    add(vector("access-issuer-mismatch", "iss differs from the expected issuer",
               authx_payload("access-issuer-mismatch", "alice", "access", issuer="https://evil.example.com"), now,
               issuer=iss, go_error="ErrIssuer"))
    add(vector("access-issuer-missing", "an issuer is expected and the token has no iss",
               authx_payload("access-issuer-missing", "alice", "access"), now, issuer=iss, go_error="ErrIssuer"))
    add(vector("access-wrong-secret", "signed by another service's secret",
               authx_payload("access-wrong-secret", "alice", "access"), now, key=OTHER_SECRET,
               go_error="ErrSignature"))
    add(vector("refresh-as-access", "a refresh token where an access token is required",
               authx_payload("refresh-as-access", "alice", "refresh"), now, go_error="ErrAccessRequired"))
    return out


def self_test():
    """jwt.encode must reproduce the token PyJWT writes for the jwt.io example."""
    got = jwt_encode({"sub": "1234567890", "name": "John Doe", "iat": 1516239022}, "your-256-bit-secret")
    want = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0"
            "IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
    if got != want:
        raise SystemExit(f"self test: jwt_encode wrote {got}, PyJWT writes {want}")


def generate(argv):
    self_test()
    text = json.dumps(vectors(), indent=2) + "\n"
    if argv:
        path = argv[0]
    else:
        here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
        path = here + "/authx_vectors.json"
    if path == "-":
        sys.stdout.write(text)
        return
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def verify_lines(stdin, stdout):
    for line in stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            claims = verify(req.get("token", ""), req["secret"], req["now"], audience=req.get("audience"),
                            issuer=req.get("issuer"), want_type=req.get("type"))
            res = {"ok": True, "error": "", "claims": claims}
        except AuthXError as e:
            res = {"ok": False, "error": f"{e.name}: {e}", "claims": None}
        stdout.write(json.dumps(res) + "\n")
    stdout.flush()


def main(argv):
    if len(argv) >= 1 and argv[0] == "generate":
        generate(argv[1:])
    elif len(argv) == 1 and argv[0] == "verify":
        verify_lines(sys.stdin, sys.stdout)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
