package sequence

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
	noteProxyBackend   = "proxy-backend"
	noteProxyAdded     = "proxy-added"
	noteTLS            = "tls"
)

// notes are the texts of the notes, in every language.
var notes = Catalog{
	noteSelfAuth:       {"en": "%[1]s authenticates itself", "zh": "%[1]s 首先要认证自己的身份"},
	noteValidate:       {"en": "%[1]s validates token %[2]s", "zh": "%[1]s 去 keystone 验证 token %[2]s"},
	noteValidateOwn:    {"en": "%[1]s validates token %[2]s with its own token %[3]s", "zh": "%[1]s 拿着自己的 token %[3]s 去验证 token %[2]s"},
	noteCacheHit:       {"en": "cache hit: token %[1]s is known, no call to keystone", "zh": "缓存命中: memcached 已有 token %[1]s, 不必再问 keystone"},
	noteCacheMiss:      {"en": "cache miss: the token must be validated by keystone", "zh": "缓存未命中: 要去 keystone 验证 token"},
	noteCached:         {"en": "token %[1]s cached", "zh": "token %[1]s 已保存到 memcached"},
	noteNotListening:   {"en": "%[1]s is not listening on %[2]s", "zh": "%[1]s 没有在 %[2]s 上监听"},
	noteNothingListens: {"en": "nothing listens on %[1]s", "zh": "%[1]s 上没有进程在监听"},
	noteDBError:        {"en": "database error %[1]s", "zh": "数据库错误 %[1]s"},
	noteFailure:        {"en": "%[1]d %[2]s", "zh": "%[1]d %[2]s"},
	noteFailureMessage: {"en": "%[1]d %[2]s: %[3]s", "zh": "%[1]d %[2]s: %[3]s"},
	noteFileOpen:       {"en": "%[1]s opens the image file of %[2]s", "zh": "%[1]s 打开镜像 %[2]s 的文件"},
	noteProxyBackend:   {"en": "%[1]s relays the request to backend %[2]s", "zh": "%[1]s 把请求转发给后端 %[2]s"},
	noteProxyAdded:     {"en": "%[1]s relays the request to backend %[2]s (adds %[3]s)", "zh": "%[1]s 把请求转发给后端 %[2]s (多用 %[3]s)"},
	noteTLS:            {"en": "%[1]s, decrypted with the key log", "zh": "%[1]s, 已用密钥日志解密"},
}

// t writes a note in the flow's language (English by default).
func (b *builder) t(key string, args ...any) string {
	return notes.Text(b.opts.Lang, key, args...)
}
