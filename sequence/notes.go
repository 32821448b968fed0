package sequence

import "fmt"

// Languages notes can be written in.
var Languages = []string{"en", "zh"}

// note keys
const (
	noteSelfAuth       = "self-auth"
	noteValidate       = "validate"
	noteValidateOwn    = "validate-own"
	noteCacheHit       = "cache-hit"
	noteCacheMiss      = "cache-miss"
	noteCached         = "cached"
	noteNotListening   = "not-listening"
	noteNothingListens = "nothing-listens"
	noteDBError        = "db-error"
	noteFailure        = "failure"
	noteFailureMessage = "failure-message"
	noteFileOpen       = "file-open"
)

// catalog holds the notes' texts per language; arguments are positional
// so that translations can reorder them.
var catalog = map[string]map[string]string{
	"en": {
		noteSelfAuth:       "%[1]s authenticates itself",
		noteValidate:       "%[1]s validates token %[2]s",
		noteValidateOwn:    "%[1]s validates token %[2]s with its own token %[3]s",
		noteCacheHit:       "cache hit: token %[1]s is known, no call to keystone",
		noteCacheMiss:      "cache miss: the token must be validated by keystone",
		noteCached:         "token %[1]s cached",
		noteNotListening:   "%[1]s is not listening on %[2]s",
		noteNothingListens: "nothing listens on %[1]s",
		noteDBError:        "database error %[1]s",
		noteFailure:        "%[1]d %[2]s",
		noteFailureMessage: "%[1]d %[2]s: %[3]s",
		noteFileOpen:       "%[1]s opens the image file of %[2]s",
	},
	"zh": {
		noteSelfAuth:       "%[1]s 首先要认证自己的身份",
		noteValidate:       "%[1]s 去 keystone 验证 token %[2]s",
		noteValidateOwn:    "%[1]s 拿着自己的 token %[3]s 去验证 token %[2]s",
		noteCacheHit:       "缓存命中: memcached 已有 token %[1]s, 不必再问 keystone",
		noteCacheMiss:      "缓存未命中: 要去 keystone 验证 token",
		noteCached:         "token %[1]s 已保存到 memcached",
		noteNotListening:   "%[1]s 没有在 %[2]s 上监听",
		noteNothingListens: "%[1]s 上没有进程在监听",
		noteDBError:        "数据库错误 %[1]s",
		noteFailure:        "%[1]d %[2]s",
		noteFailureMessage: "%[1]d %[2]s: %[3]s",
		noteFileOpen:       "%[1]s 打开镜像 %[2]s 的文件",
	},
}

// t writes a note in the flow's language (English by default).
func (b *builder) t(key string, args ...any) string {
	texts := catalog[b.opts.Lang]
	if texts == nil {
		texts = catalog["en"]
	}
	return fmt.Sprintf(texts[key], args...)
}
