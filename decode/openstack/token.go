package openstack

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// FingerprintLen is the number of hex digits of a token fingerprint.
const FingerprintLen = 12

// Fingerprint returns the short, stable name under which authflow shows a
// token: the first hex digits of its SHA-256. keystonemiddleware keys its
// memcached entries by the whole SHA-256, so a fingerprint is also the start
// of the token's cache key.
func Fingerprint(token string) string {
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])[:FingerprintLen]
}

// CacheKeys returns the memcached keys under which keystonemiddleware's
// auth_token caches a token: "tokens/" + SHA-256 hex of the token without a
// memcache_security_strategy, or, with strategy MAC or ENCRYPT and the
// memcache_secret_key, "tokens/" + base64 of the first 16 bytes of
// HMAC-SHA384(secret, token + strategy) — also in the form Python 3 writes
// it, "tokens/b'…'" (keystonemiddleware formats the bytes with %s).
func CacheKeys(token, secret string, strategies ...string) []string {
	sum := sha256.Sum256([]byte(token))
	keys := []string{"tokens/" + hex.EncodeToString(sum[:])}
	if secret == "" {
		return keys
	}
	if len(strategies) == 0 {
		strategies = []string{"ENCRYPT", "MAC"}
	}
	for _, s := range strategies {
		mac := hmac.New(sha512.New384, []byte(secret))
		mac.Write([]byte(token))
		mac.Write([]byte(strings.ToUpper(s)))
		b64 := base64.StdEncoding.EncodeToString(mac.Sum(nil)[:16])
		keys = append(keys, "tokens/"+b64, "tokens/b'"+b64+"'")
	}
	return keys
}

// ProtectedCacheKey reports whether key looks like a token cache key made
// with a memcache_security_strategy (keyed by a secret authflow may not
// have).
func ProtectedCacheKey(key string) bool {
	rest, ok := strings.CutPrefix(key, "tokens/")
	if !ok {
		return false
	}
	rest = strings.TrimSuffix(strings.TrimPrefix(rest, "b'"), "'")
	if len(rest) != 24 || !strings.HasSuffix(rest, "==") {
		return false
	}
	_, err := base64.StdEncoding.DecodeString(rest)
	return err == nil
}

// HashedCacheKey returns the SHA-256 hex of a plain token cache key
// ("tokens/<64 hex>"), or "" if key is not one.
func HashedCacheKey(key string) string {
	rest, ok := strings.CutPrefix(key, "tokens/")
	if !ok || len(rest) != 64 {
		return ""
	}
	if _, err := hex.DecodeString(rest); err != nil {
		return ""
	}
	return rest
}
