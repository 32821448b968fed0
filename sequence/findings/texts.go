package findings

import "github.com/authflow/authflow/sequence"

// texts are the findings' summaries and details, in every language. Each
// text gets the same arguments in every language; a language uses those it
// needs (English its plurals, Chinese the plain counts).
var texts = sequence.Catalog{
	"list.sep":           {"en": ", ", "zh": "、"},
	"list.more":          {"en": " and %[1]d more", "zh": " 等 %[2]d 个"},
	"sentence.end":       {"en": ".", "zh": "。"},
	"sentence.end.space": {"en": ". ", "zh": "。"},
	"sentence.sep":       {"en": " ", "zh": ""},

	// cache-unreachable: Service, at(Cache, Endpoint), what.
	"unreachable.refused":         {"en": "%[2]s refused", "zh": "%[1]d 次连接被拒绝"},
	"unreachable.reset":           {"en": "%[2]s reset", "zh": "%[1]d 次连接被重置"},
	"unreachable.summary":         {"en": "%[1]s could not reach its token cache %[2]s: %[3]s", "zh": "%[1]s 连不上它的 token 缓存 %[2]s: %[3]s"},
	"unreachable.validated":       {"en": "; every token was validated with keystone instead (%[2]s, %[3]d keystone DB queries)", "zh": "; 每个 token 都只能去 keystone 验证 (%[1]d 次验证, keystone 数据库 %[3]d 条查询)"},
	"unreachable.recovered":       {"en": "; the cache came back later", "zh": "; 之后缓存恢复了"},
	"unreachable.detail":          {"en": "keystonemiddleware's auth_token in %[1]s could not connect to memcached", "zh": "%[1]s 里 keystonemiddleware 的 auth_token 连不上 memcached"},
	"unreachable.at":              {"en": " at %[1]s", "zh": " %[1]s"},
	"unreachable.nothing-listens": {"en": " (connection refused: nothing listens there)", "zh": " (连接被拒绝: 那里没有进程在监听)"},
	"unreachable.advice": {
		"en": ", so it could neither look tokens up nor store them: every request carrying a token costs a validation call to keystone, " +
			"which adds keystone's latency to the request and load to keystone and its database. " +
			"Check that memcached is running and listening there (systemctl status memcached; ss -ltnp %[1]s), " +
			"and memcached_servers in [keystone_authtoken] of %[2]s.",
		"zh": ", 既查不了缓存也存不进去: 每个带 token 的请求都要去 keystone 验证一次, 请求变慢, keystone 和它的数据库负载变大。" +
			"请检查 memcached 是否在运行、是否监听这个地址 (systemctl status memcached; ss -ltnp %[1]s), 以及 %[2]s 中 [keystone_authtoken] 的 memcached_servers。",
	},

	// cache-unreachable of a peer: Peer, at(Cache, Endpoint), what.
	"peer-unreachable.summary": {
		"en": "%[1]s, no known OpenStack service, could not reach %[2]s: %[3]s",
		"zh": "%[1]s (不是已知的 OpenStack 服务) 连不上 %[2]s: %[3]s",
	},
	"peer-unreachable.detail": {
		"en": "A program authflow does not know as a service (a port probe, a monitoring check, a script) failed to connect to the cache",
		"zh": "一个 authflow 不认识的程序 (端口探测、监控检查、脚本) 连接缓存失败",
	},
	"peer-unreachable.refused": {"en": " (refused: nothing listened there then)", "zh": " (连接被拒绝: 当时那里没有进程在监听)"},
	"peer-unreachable.detail.end": {
		"en": ". This only records what happened; what matters is whether a service's own cache traffic failed too, which has a finding of its own.",
		"zh": "。这里只如实记录; 要看的是服务自己的缓存访问是否也失败了, 那会有单独的发现。",
	},

	// cache-connection-reset: Service, at(Cache, Endpoint), resets, times, validations, plural.
	"reset.summary": {
		"en": "%[1]s's connections to its token cache %[2]s were reset %[4]s (memcached restarted?): the look-ups counted as misses, %[6]s validated with keystone, then the cache worked again",
		"zh": "%[1]s 到 token 缓存 %[2]s 的连接被重置了 %[3]d 次 (memcached 重启过?): 这些查询按未命中处理, %[5]d 个 token 去 keystone 验证, 之后缓存恢复正常",
	},
	"reset.detail": {
		"en": "Each %[1]s worker keeps a pooled connection to memcached. When memcached restarts (or a firewall or conntrack drops an idle connection), " +
			"the worker's next command on its old connection is answered by a TCP reset: keystonemiddleware treats it as a miss, validates the token with keystone " +
			"and reconnects for the store. Each worker pays this once, and every token cached before the restart is gone. " +
			"If it recurs, look for memcached restarts or OOM kills (journalctl -u memcached) and idle timeouts between %[1]s and memcached.",
		"zh": "%[1]s 的每个 worker 进程都保持一条到 memcached 的长连接。memcached 重启 (或防火墙、conntrack 丢掉空闲连接) 之后, worker 在旧连接上发出的下一条命令会收到 TCP RST: " +
			"keystonemiddleware 当作未命中, 去 keystone 验证 token, 再新建连接写入缓存。每个 worker 都要付一次这个代价, 重启前缓存的 token 也全部丢失。" +
			"如果反复出现, 请查 memcached 的重启或 OOM (journalctl -u memcached), 以及 %[1]s 与 memcached 之间的空闲超时。",
	},

	// cache-errors: Cache, Service, count, plural, first.
	"cache-errors.not-stored": {"en": "not stored", "zh": "未存入"},
	"cache-errors.summary": {
		"en": "%[1]s answered %[4]s of %[2]s with an error or did not store them (first: %[5]s)",
		"zh": "%[1]s 对 %[2]s 的 %[3]d 条命令返回错误或没有存入 (第一条: %[5]s)",
	},
	"cache-errors.detail": {
		"en": "keystonemiddleware ignores cache errors and validates with keystone instead, so entries that are not stored mean a validation on every request. " +
			"SERVER_ERROR out of memory or NOT_STORED: memcached is full (-m) or the value exceeds its item size limit (-I, 1 MiB by default); " +
			"check `echo stats | nc HOST 11211` (evictions, limit_maxbytes).",
		"zh": "keystonemiddleware 忽略缓存错误, 改去 keystone 验证; 存不进去就意味着每个请求都要验证一次。" +
			"SERVER_ERROR out of memory 或 NOT_STORED: memcached 满了 (-m) 或者值超过了单项大小上限 (-I, 默认 1 MiB); 用 `echo stats | nc HOST 11211` 看 evictions 和 limit_maxbytes。",
	},

	// cache-hit: Service, hits, lookups, plural, tokens, plural of hits.
	"cache-hit.summary": {
		"en": "token cache working: %[2]d of %[4]s by %[1]s hit (%[5]s): %[6]s served without asking keystone",
		"zh": "token 缓存在起作用: %[1]s 的 %[3]d 次查询中 %[2]d 次命中 (%[5]s), %[2]d 个请求没有去问 keystone",
	},
	"cache-hit.detail": {
		"en": "keystonemiddleware found the validated token in memcached and skipped the call to keystone: no validation and no keystone database work for these requests. " +
			"A hit needs the same token again within token_cache_time (300 s by default): one CLI command making several calls, an SDK session, or a service passing a user's token on benefit; " +
			"a client that gets a new token for every command always misses. " +
			"The flip side: a token found in the cache is not checked for revocation until its entry expires.",
		"zh": "keystonemiddleware 在 memcached 里找到了已验证的 token, 省掉了对 keystone 的调用: 这些请求既没有验证, 也没有 keystone 数据库查询。" +
			"只有同一个 token 在 token_cache_time (默认 300 秒) 内再次出现才会命中: 一条 CLI 命令内的多次调用、SDK 会话、服务之间转发用户 token 都能受益; 每条命令都换新 token 的客户端永远不会命中。" +
			"反过来说: 在缓存里找到的 token, 在缓存过期之前不会再检查是否已被吊销。",
	},

	// cache-never-hit: Service, lookups, plural, stores.
	"never-hit.seen-before": {
		"en": "token cache never hit: %[3]s by %[1]s, all misses, some for tokens it had seen before",
		"zh": "token 缓存从未命中: %[1]s 查询了 %[2]d 次, 全部未命中, 其中有些 token 之前已经查过或存过",
	},
	"never-hit.seen-before.detail": {
		"en": "Tokens that had been looked up or stored before should have been found: check that every worker and host of %[1]s has the same memcached_servers, " +
			"memcache_security_strategy and memcache_secret_key (entries written under another secret have other keys), and memcached's evictions and restarts.",
		"zh": "之前查过或存过的 token 应该能找到: 请检查 %[1]s 的每个 worker 和每台主机的 memcached_servers、memcache_security_strategy 和 memcache_secret_key 是否一致 (用另一个密钥写入的条目键不同), 以及 memcached 的 evictions 和重启。",
	},
	"never-hit.summary": {
		"en": "token cache never hit: %[3]s by %[1]s, all misses, %[4]d stored; every look-up was for a token %[1]s had not seen before",
		"zh": "token 缓存从未命中: %[1]s 查询 %[2]d 次全部未命中, 存入 %[4]d 次 —— 每次查询的都是它第一次见到的 token",
	},
	"never-hit.client-reauth": {"en": " (the client got a new token for each command)", "zh": " (客户端每条命令都换了新 token)"},
	"never-hit.detail": {
		"en": "The cache itself works (entries were stored), but no token came back while it was cached: a look-up can only hit when the same token is presented again " +
			"within token_cache_time (300 s by default). ",
		"zh": "缓存本身是正常的 (条目都存进去了), 但没有哪个 token 在缓存期内再次出现: 只有同一个 token 在 token_cache_time (默认 300 秒) 内再来一次才能命中。",
	},
	"never-hit.detail.nothing-stored": {
		"en": "Nothing was stored (invalid tokens are not cached) and no token came back: a look-up can only hit when the same valid token is presented again " +
			"within token_cache_time (300 s by default). ",
		"zh": "什么都没有存入 (无效的 token 不会被缓存), 也没有哪个 token 再次出现: 只有同一个有效 token 在 token_cache_time (默认 300 秒) 内再来一次才能命中。",
	},
	"never-hit.detail.client-reauth": {
		"en": "Here each command of the client authenticated anew, so each new token missed and cost a validation with keystone; " +
			"reusing one token across commands would make the later ones cache hits (see client-reauth-every-command).",
		"zh": "这里客户端的每条命令都重新认证, 新 token 在缓存里当然找不到, 每次都要去 keystone 验证; 多条命令共用一个 token, 后面的命令就会命中缓存 (见 client-reauth-every-command)。",
	},
	"never-hit.detail.one-use": {"en": "Each token was used for one request only (or by different services).", "zh": "每个 token 只用于一个请求 (或者由不同的服务使用)。"},

	// cache-miss-after-store: Service, count, plural, token, age; detail: cache time.
	"miss-after-store.summary": {
		"en": "%[1]s missed %[3]s it had stored shortly before (%[4]s: missed %[5]s after it was stored)",
		"zh": "%[1]s 有 %[2]d 次没找到刚存入不久的缓存条目 (%[4]s 存入 %[5]s 后未命中)",
	},
	"miss-after-store.detail": {
		"en": "The entry should still have been in memcached (kept for token_cache_time, assumed %[1]s). It was evicted (memcached full: `stats` evictions, raise -m), " +
			"memcached restarted, or the look-up went to another memcached server or used another memcache_secret_key than the store " +
			"(settings differing across workers or hosts).",
		"zh": "条目应该还在 memcached 里 (缓存时间 token_cache_time, 这里按 %[1]s 算)。可能被淘汰了 (memcached 满了: 看 stats 的 evictions, 调大 -m)、memcached 重启过, " +
			"或者这次查询去了另一台 memcached、用了与写入时不同的 memcache_secret_key (worker 或主机之间配置不一致)。",
	},

	// cache-protected-no-secret: keys, plural; detail: Service.
	"protected.summary": {
		"en": "token cache protected with memcache_security_strategy (MAC or ENCRYPT): authflow cannot tie %[2]s to tokens without --memcache-secret",
		"zh": "token 缓存启用了 memcache_security_strategy (MAC 或 ENCRYPT): 没有 --memcache-secret, authflow 无法把 %[1]d 个缓存键对应到 token",
	},
	"protected.detail": {
		"en": "%[1]s stores validated tokens under keys derived with an HMAC of memcache_secret_key and authenticates (with ENCRYPT also encrypts) the values, " +
			"so the cache holds no token in clear: good practice. To see which token each entry caches, and so whether hits are for the same token, " +
			"rerun with --memcache-secret set to memcache_secret_key from [keystone_authtoken].",
		"zh": "%[1]s 用 memcache_secret_key 的 HMAC 派生缓存键, 并对值做认证 (ENCRYPT 还会加密), 缓存里没有明文 token —— 这是好的做法。" +
			"要看出每个条目缓存的是哪个 token (从而判断命中的是不是同一个 token), 请用 --memcache-secret 指定 [keystone_authtoken] 中的 memcache_secret_key 重新分析。",
	},
	"protected.bytes-repr": {
		"en": " The keys look like tokens/b'…': keystonemiddleware formats the key bytes with %%s under Python 3 (seen with 10.1.0). " +
			"Harmless, but other keystonemiddleware versions name the same entry without b'…', so services on mixed versions do not share cached tokens.",
		"zh": "缓存键形如 tokens/b'…': keystonemiddleware 在 Python 3 下用 %%s 格式化了 bytes (10.1.0 中可见)。无害, 但其它版本的 keystonemiddleware 给同一条目起的名字不带 b'…', 版本混用的服务之间不能共享缓存。",
	},

	// cache-unprotected: Service, entries, plural, Cache; detail: where, Config.
	"unprotected.summary": {
		"en": "token cache unprotected: %[1]s stored %[3]s in %[4]s in clear",
		"zh": "token 缓存未加保护: %[1]s 把 %[2]d 个已验证的 token 以明文存进了 %[4]s",
	},
	"unprotected.detail": {
		"en": "Without memcache_security_strategy the key is the token's SHA-256 and the value is keystone's validation answer plus the token itself (auth_token): " +
			"whoever can connect to memcached%[1]s can read valid tokens and use them until they expire. " +
			"Set memcache_security_strategy = ENCRYPT and memcache_secret_key in [keystone_authtoken] of %[2]s, and let only the services reach memcached.",
		"zh": "没有设置 memcache_security_strategy 时, 缓存键是 token 的 SHA-256, 值是 keystone 的验证结果再加上 token 本身 (auth_token): " +
			"任何能连上 memcached%[1]s 的人都能读到有效的 token, 并在过期前使用它们。" +
			"请在 %[2]s 的 [keystone_authtoken] 中设置 memcache_security_strategy = ENCRYPT 和 memcache_secret_key, 并且只让服务能访问 memcached。",
	},

	// cache-not-seen: Service, validations, plural; detail: Config.
	"not-seen.summary": {
		"en": "%[1]s validated %[3]s with keystone and no token cache traffic was captured",
		"zh": "%[1]s 去 keystone 验证了 %[2]d 次 token, 抓包里却没有任何 token 缓存的流量",
	},
	"not-seen.detail": {
		"en": "Either memcached_servers is not set in [keystone_authtoken] of %[1]s: keystonemiddleware then caches tokens in each worker process's memory only, " +
			"shared neither between workers nor hosts; or the cache is reached over an interface or host that was not captured (capture the loopback too).",
		"zh": "要么 %[1]s 的 [keystone_authtoken] 没有设置 memcached_servers —— keystonemiddleware 这时只在每个 worker 进程的内存里缓存 token, worker 之间、主机之间都不共享 —— " +
			"要么缓存走的是没有抓到的接口或主机 (把回环接口也抓上)。",
	},

	// service-auth: Service, issues, times, issue time, queries, tokens, plural, token list, validations, plural.
	"service-auth.summary": {
		"en": "%[1]s authenticated itself %[3]s (%[4]s, %[5]d keystone DB queries) and validated %[10]s with %[7]s of its own (%[8]s)",
		"zh": "%[1]s 自己认证了 %[2]d 次 (%[4]s, keystone 数据库 %[5]d 条查询), 用它自己的 %[6]d 个 token (%[8]s) 验证了 %[9]d 个用户 token",
	},
	// Service, tokens, plural, token list, validations, plural.
	"service-auth.summary.before": {
		"en": "%[1]s validated %[6]s with %[3]s of its own (%[4]s), obtained before the capture",
		"zh": "%[1]s 用它自己的 %[2]d 个不同的 token (%[4]s, 都是抓包开始前获得的) 验证了 %[5]d 个用户 token",
	},
	"service-auth.detail": {
		"en": "keystonemiddleware authenticates the service itself (the user of [keystone_authtoken] in %[1]s) the first time it needs to validate a token, " +
			"and keeps that token in the worker process's memory until it nears expiry. Each worker does so once, so several service tokens are normal with several workers; " +
			"the first request a worker serves pays for the authentication",
		"zh": "keystonemiddleware 第一次需要验证 token 时先让服务自己认证 (用 %[1]s 中 [keystone_authtoken] 的用户), 然后把这个 token 保存在 worker 进程的内存里, 直到快过期。" +
			"每个 worker 都认证一次, 所以有几个 worker 就会有几个服务 token, 这是正常的; worker 处理的第一个请求要为这次认证买单",
	},
	"service-auth.detail.here":   {"en": " (%[1]s here)", "zh": " (这里是 %[1]s)"},
	"service-auth.detail.before": {"en": " %[2]s obtained before the capture started.", "zh": "其中 %[1]d 个 token 是抓包开始前获得的。"},

	// service-reauth-every-request: Service, validations, plural, issues; detail: average, queries, Config.
	"service-reauth.summary": {
		"en": "%[1]s authenticated itself for every validation: %[4]d new service tokens for %[3]s, each used once",
		"zh": "%[1]s 每次验证都重新认证自己: %[2]d 次验证用了 %[4]d 个新的服务 token, 每个只用一次",
	},
	"service-reauth.detail": {
		"en": "keystonemiddleware normally keeps its service token until it nears expiry; getting a new one per request adds a password authentication " +
			"(%[1]s and %[2]d keystone DB queries on average here) to every request that misses the cache. Check that the service processes are not restarted per request " +
			"(uwsgi/mod_wsgi max-requests), that keystone's token lifetime ([token] expiration) is not tiny, and the auth settings in [keystone_authtoken] of %[3]s. " +
			"With as many freshly started worker processes, this is also what each worker's first request looks like.",
		"zh": "keystonemiddleware 通常会一直使用自己的服务 token 直到快过期; 每个请求都换新 token, 就给每个未命中缓存的请求多加了一次密码认证 (这里平均 %[1]s, keystone 数据库 %[2]d 条查询)。" +
			"请检查服务进程是否每个请求都被重启 (uwsgi/mod_wsgi 的 max-requests)、keystone 的 token 有效期 ([token] expiration) 是否太短, 以及 %[3]s 中 [keystone_authtoken] 的认证设置。" +
			"如果正好有这么多刚启动的 worker, 这也可能只是每个 worker 的第一个请求。",
	},

	// client-reauth-every-command: Client, tokens, span, token list; detail: average, queries, uses.
	"client-reauth.summary": {
		"en": "%[1]s got a new token for each command: %[2]d token requests in %[3]s (%[4]s), each while the previous token was still valid",
		"zh": "%[1]s 每条命令都要一个新 token: %[3]s 内请求了 %[2]d 个 token (%[4]s), 而前一个 token 都还有效",
	},
	"client-reauth.detail": {
		"en": "Each `openstack` CLI run (or script run with a password) authenticates from scratch (POST /v3/auth/tokens: %[1]s and %[2]d keystone DB queries on average here), " +
			"and its new token is unknown to every service's token cache, so its first call to each service misses the cache and costs a validation with keystone. " +
			"Requests per token: %[3]s. To run many commands, reuse one token (export OS_AUTH_TYPE=token OS_TOKEN=$(openstack token issue -f value -c id), " +
			"keeping OS_AUTH_URL and the project settings) or run them in one process (openstack's interactive mode, or a script with one SDK/keystoneauth session).",
		"zh": "每次运行 `openstack` 命令 (或用密码认证的脚本) 都从头认证 (POST /v3/auth/tokens: 这里平均 %[1]s, keystone 数据库 %[2]d 条查询), " +
			"而新 token 不在任何服务的 token 缓存里, 所以它对每个服务的第一次调用都未命中, 要去 keystone 验证。每个 token 的请求数: %[3]s。" +
			"要连续执行很多命令, 请共用一个 token (export OS_AUTH_TYPE=token OS_TOKEN=$(openstack token issue -f value -c id), 保留 OS_AUTH_URL 和项目设置), " +
			"或者在一个进程里执行 (openstack 交互模式, 或只用一个 SDK/keystoneauth 会话的脚本)。",
	},

	// token-validated-repeatedly: Token, count, span, services.
	"revalidated.summary": {
		"en": "token %[1]s was validated with keystone %[2]d times in %[3]s (by %[4]s)",
		"zh": "token %[1]s 在 %[3]s 内被 %[4]s 拿去 keystone 验证了 %[2]d 次",
	},
	"revalidated.detail": {
		"en": "Within token_cache_time a working token cache returns the validated token without asking keystone again. Repeated validations mean the cache was missed: " +
			"without memcached_servers each worker process caches on its own (one validation per worker), or the cache was unreachable, evicted the entry, " +
			"or is keyed differently per worker.",
		"zh": "在 token_cache_time 之内, 正常工作的 token 缓存会直接返回已验证的 token, 不必再问 keystone。重复验证说明缓存没起作用: " +
			"没有设置 memcached_servers 时每个 worker 进程各自缓存 (每个 worker 验证一次), 或者缓存连不上、条目被淘汰、各 worker 的缓存键不同。",
	},

	// slow-validation, slow-token-issue.
	"slow.validation":    {"en": "token validation", "zh": "token 验证"},
	"slow.issue":         {"en": "token issue", "zh": "token 签发"},
	"slow.who":           {"en": "by %[1]s", "zh": "%[1]s 请求"},
	"db.busy":            {"en": "the database busy for", "zh": "数据库忙了"},
	"db.spread":          {"en": "spread over", "zh": "分布在"},
	"slow.item":          {"en": "seq %[1]d (%[2]s", "zh": "#%[1]d (%[2]s"},
	"slow.item.token":    {"en": ", token %[1]s", "zh": ", token %[1]s"},
	"slow.item.took":     {"en": "): %[1]s, %[2]d DB queries, %[3]s %[4]s", "zh": "): %[1]s, 数据库 %[2]d 条查询, %[3]s %[4]s"},
	"slow.item.new-conn": {"en": ", new DB connection", "zh": ", 新建了数据库连接"},
	"slow.more":          {"en": "and %[1]d more, faster", "zh": "另有 %[1]d 次较快的"},
	// count, what, threshold, slowest, seq, who, queries, db word, db time.
	"slow.summary": {
		"en": "%[1]d %[2]ss took longer than %[3]s, the slowest %[4]s (seq %[5]d, %[6]s): keystone ran %[7]d DB queries meanwhile, %[8]s %[9]s",
		"zh": "%[1]d 次%[2]s超过 %[3]s, 最慢的一次 %[4]s (#%[5]d, %[6]s): 其间 keystone 执行了 %[7]d 条数据库查询, %[8]s %[9]s",
	},
	// what, took, threshold, seq, who, queries, db word, db time.
	"slow.summary.one": {
		"en": "%[1]s took %[2]s (over %[3]s; seq %[4]d, %[5]s): keystone ran %[6]d DB queries meanwhile, %[7]s %[8]s",
		"zh": "%[1]s花了 %[2]s (超过 %[3]s; #%[4]d, %[5]s): 其间 keystone 执行了 %[6]d 条数据库查询, %[7]s %[8]s",
	},
	"slow.db-bound": {
		"en": "Most of the time keystone was waiting for its database: look at the database server (load, slow query log, latency to it) " +
			"and the tables keystone reads (assignment; revocation_event, large when many tokens are revoked).",
		"zh": "大部分时间 keystone 在等数据库: 请看数据库服务器 (负载、慢查询日志、到它的网络延迟) 以及 keystone 读的表 (assignment, 大量吊销 token 后的 revocation_event)。",
	},
	// db time, took.
	"slow.spread": {
		"en": "Keystone's statements spread over %[1]s of the %[2]s; summed up like this, database time and keystone's own work between statements " +
			"cannot be told apart (rerun with --detail to get each statement's time). If the database is slow, look at the database server (load, slow query log, " +
			"latency to it) and the assignment and revocation_event tables; otherwise the time goes into keystone itself: all its processes or threads busy " +
			"(uwsgi processes × threads), CPU",
		"zh": "keystone 的查询分布在 %[2]s 中的 %[1]s 里; 这里只看到汇总的第一条和最后一条, 分不清数据库时间和 keystone 自己在查询之间的工作 (用 --detail 重新分析可以看到每条语句的时间)。" +
			"如果是数据库慢, 请看数据库服务器 (负载、慢查询日志、网络延迟) 以及 assignment、revocation_event 表; 否则时间花在 keystone 自己身上: 进程/线程都在忙 (uwsgi processes × threads)、CPU",
	},
	"slow.cpu-bound": {
		"en": "The database was busy for only %[1]s of %[2]s: the time went into keystone itself: all its processes or threads busy (uwsgi processes × threads), CPU",
		"zh": "数据库只忙了 %[1]s (共 %[2]s): 时间花在 keystone 自己身上 —— 所有进程/线程都在忙 (uwsgi processes × threads)、CPU",
	},
	"slow.password-hashing": {
		"en": " (password hashing on issue: [identity] password_hash_algorithm and password_hash_rounds)",
		"zh": " (签发时的密码哈希: [identity] password_hash_algorithm / password_hash_rounds)",
	},
	"slow.fernet":     {"en": ", or slow access to the fernet key repository.", "zh": ", 或者读取 fernet 密钥目录很慢。"},
	"slow.new-conn":   {"en": " Keystone opened a new database connection meanwhile: the first requests after a restart are slower.", "zh": "期间 keystone 新建了数据库连接: 重启后的头几个请求会更慢。"},
	"slow.cache-miss": {"en": " Each validation is paid by a request that missed the token cache.", "zh": "每次验证都是由一个未命中 token 缓存的请求承担的。"},

	// many-queries.
	"step.revocation":   {"en": "token revocation", "zh": "token 吊销"},
	"step":              {"en": "step", "zh": "步骤"},
	"many-queries.step": {"en": "%[1]s (seq %[2]d) %[3]d", "zh": "%[1]s (#%[2]d) %[3]d"},
	// Service, threshold, steps, top queries, top name.
	"many-queries.summary": {
		"en": "%[1]s ran %[2]d or more SQL statements in each of %[3]d steps, up to %[4]d for one %[5]s",
		"zh": "%[1]s 在 %[3]d 个步骤中每步都执行了 %[2]d 条以上的 SQL 语句, 最多的一次 (%[5]s) 用了 %[4]d 条",
	},
	// Service, queries, name, seq.
	"many-queries.summary.one": {
		"en": "%[1]s ran %[2]d SQL statements for one %[3]s (seq %[4]d)",
		"zh": "%[1]s 为一次 %[3]s (#%[4]d) 执行了 %[2]d 条 SQL 语句",
	},
	"many-queries.detail":          {"en": "Statements per step: %[1]s. ", "zh": "每步的语句数: %[1]s。"},
	"many-queries.detail.keystone": {"en": "Keystone's count grows with the roles, groups, projects and catalog it resolves; ", "zh": "keystone 的语句数随它要解析的角色、组、项目和服务目录增长; "},
	"many-queries.detail.oslo": {
		"en": "oslo.db adds a `SELECT 1` when it checks a connection out of its pool and a ROLLBACK when it gives it back (run with --detail to see every statement). " +
			"Each validation a token cache hit avoids saves these queries.",
		"zh": "oslo.db 每次从连接池取连接时还会发一条 `SELECT 1`, 还回时发 ROLLBACK (用 --detail 可以看到每条语句)。每次命中 token 缓存省掉的验证都能省下这些查询。",
	},

	// auth-failures: count, plural, categories. Categories: count, plural.
	"auth-failures.summary": {"en": "%[2]s failed authentication: %[3]s", "zh": "%[1]d 个请求认证失败: %[3]s"},
	// Only policy refusals: authenticated, and refused.
	"auth-failures.refused":  {"en": "%[2]s refused: %[3]s", "zh": "%[1]d 个请求被拒绝: %[3]s"},
	"failures.service-creds": {"en": "%[2]s refused", "zh": "%[1]d 次服务自身认证被拒"},
	"failures.invalid-token": {"en": "%[2]s rejected by keystone", "zh": "%[1]d 个 token 被 keystone 拒绝"},
	"failures.password":      {"en": "%[2]s refused", "zh": "%[1]d 次密码认证被拒"},
	"failures.forbidden":     {"en": "%[1]d forbidden (403)", "zh": "%[1]d 次禁止访问 (403)"},
	"failures.unauthorized":  {"en": "%[1]d refused by a service (401)", "zh": "%[1]d 次被服务以 401 拒绝"},
	"failures.service-creds.detail": {
		"en": "A service's own credentials were refused: the username, password or project in its [keystone_authtoken] are wrong, or the user is disabled; every request that needs a validation fails.",
		"zh": "服务自己的凭据被拒: [keystone_authtoken] 中的 username/password/project 不对或用户被禁用 —— 每个需要验证的请求都会失败。",
	},
	"failures.invalid-token.detail": {
		"en": "Tokens rejected by keystone (404 Failed to validate token): revoked, expired, malformed, or made with fernet keys this keystone does not have (keys not synced to every keystone node after a rotation).",
		"zh": "token 被 keystone 拒绝 (404 Failed to validate token): 已吊销、已过期、格式不对, 或者是用本 keystone 没有的 fernet 密钥签发的 (密钥轮换后没有同步到所有 keystone 节点)。",
	},
	"failures.password.detail": {
		"en": "Password refused (401 on POST /v3/auth/tokens): wrong password, unknown user or domain, disabled user, or a locked-out account ([security_compliance] lockout_failure_attempts); keystone's log says which.",
		"zh": "密码认证被拒 (POST /v3/auth/tokens 返回 401): 密码错误、用户或域不存在、用户被禁用, 或账户被锁定 ([security_compliance] lockout_failure_attempts); keystone 的日志里有原因。",
	},
	"failures.forbidden.detail": {
		"en": "403: authenticated but not allowed: policy (the role does not satisfy the rule), or a service user without the admin or service role validating tokens.",
		"zh": "403: 认证通过但不允许: 策略 (角色不满足规则), 或者验证 token 的服务用户没有 admin/service 角色。",
	},
	"failures.unauthorized.detail": {"en": "401 from a service: the token it was given was refused.", "zh": "服务返回 401: 它收到的 token 被拒绝了。"},

	// auth-failure-burst: count, span, categories.
	"burst.summary": {"en": "burst of %[1]d authentication failures within %[2]s (%[3]s)", "zh": "认证失败集中爆发: %[2]s 内 %[1]d 次 (%[3]s)"},
	"burst.detail": {
		"en": "Many failures in a short time: a script or service retrying with a wrong password or a stale token, password guessing, or, for tokens rejected right after a fernet key rotation, " +
			"keystone nodes with different keys. The evidence frames show the callers' addresses.",
		"zh": "短时间内大量失败: 脚本或服务拿着错误的密码或失效的 token 不断重试、有人在猜密码, 或者 —— 如果是 fernet 密钥轮换后 token 被拒 —— 各 keystone 节点的密钥不一致。证据帧里有调用方的地址。",
	},

	// token-used-after-revocation: Token, uses, times, status.
	"revoked.refused": {
		"en": "revoked token %[1]s used again %[3]s and refused (%[4]d): the revocation took effect",
		"zh": "已吊销的 token %[1]s 又被使用了 %[2]d 次并被拒绝 (%[4]d): 吊销生效了",
	},
	"revoked.refused.detail": {
		"en": "keystone no longer validates a revoked token (404 Failed to validate token) and the service refused the request. " +
			"Had the service found the token in its cache first, it would have accepted it until the entry expired (token_cache_time).",
		"zh": "keystone 不再认可已吊销的 token (404 Failed to validate token), 服务拒绝了请求。如果服务先在自己的缓存里找到了这个 token, 它会一直接受到缓存过期 (token_cache_time)。",
	},
	// Token, delay, Service, status.
	"revoked.accepted": {
		"en": "revoked token %[1]s still accepted: %[3]s answered %[4]d %[2]s after keystone revoked it",
		"zh": "已吊销的 token %[1]s 仍被接受: keystone 吊销它 %[2]s 之后, %[3]s 仍返回 %[4]d",
	},
	"revoked.from-cache": {"en": ", from its token cache without asking keystone", "zh": ", 来自它的 token 缓存, 没有问 keystone"},
	"revoked.from-cache.detail": {
		"en": "keystonemiddleware keeps a validated token in memcached for token_cache_time (assumed %[1]s) and does not check revocations for tokens it finds there: " +
			"a revoked token keeps working on this service until its entry expires",
		"zh": "keystonemiddleware 把验证过的 token 在 memcached 里保存 token_cache_time (这里按 %[1]s 算), 对缓存里找到的 token 不检查吊销: 已吊销的 token 在这个服务上一直可用, 直到缓存条目过期",
	},
	"revoked.until":            {"en": " (here until about %[1]s)", "zh": " (这里大约到 %[1]s)"},
	"revoked.lower-cache-time": {"en": ". If revocation must take effect at once, lower token_cache_time in [keystone_authtoken] (each miss then costs a validation).", "zh": "。如果吊销必须立即生效, 请调小 [keystone_authtoken] 的 token_cache_time (每次未命中都要验证一次)。"},
	"revoked.validated":        {"en": ", keystone itself validating it", "zh": ", keystone 自己也说它有效"},
	"revoked.validated.detail": {
		"en": "keystone said the token was valid after revoking it: the validating keystone did not see the revocation " +
			"(another keystone node with its own database, replication lag, or cached revocation events: [revoke] caching).",
		"zh": "keystone 在吊销之后仍说这个 token 有效: 做验证的 keystone 没看到吊销 (另一个使用自己数据库的 keystone 节点、复制延迟, 或缓存了吊销事件: [revoke] caching)。",
	},
	"revoked.unvalidated.detail": {
		"en": "The service accepted the token without a validation in the capture: it may cache tokens in memory (no memcached), or its cache traffic was not captured.",
		"zh": "抓包里服务没有验证就接受了 token: 它可能在内存里缓存 token (没有 memcached), 或者缓存的流量没有抓到。",
	},

	// token-used-after-expiry: Token, expiry, uses, times.
	"expired.refused": {
		"en": "token %[1]s used %[4]s after it expired (%[2]s) and refused",
		"zh": "token %[1]s 过期 (%[2]s) 后又被使用了 %[3]d 次, 被拒绝",
	},
	"expired.refused.detail": {
		"en": "A client kept using a token past its lifetime ([token] expiration, 1 h by default): long-running jobs must re-authenticate; keystoneauth sessions do so by themselves.",
		"zh": "客户端在 token 有效期 ([token] expiration, 默认 1 小时) 之后还在用它: 长时间运行的任务必须重新认证; keystoneauth 会话会自动这样做。",
	},
	// Token, expiry, delay, Service, status.
	"expired.accepted": {
		"en": "expired token %[1]s still accepted: %[4]s answered %[5]d %[3]s after it expired (%[2]s)",
		"zh": "过期的 token %[1]s 仍被接受: 过期 (%[2]s) %[3]s 之后 %[4]s 仍返回 %[5]d",
	},
	"expired.accepted.detail": {
		"en": "keystonemiddleware checks the expiry of the tokens it finds in its cache, so an accepted expired token means the clocks of the service and keystone differ (check NTP/chrony), " +
			"or the validation allowed expired tokens (allow_expired, used with service tokens for long operations).",
		"zh": "keystonemiddleware 会检查缓存中 token 的过期时间, 所以接受过期 token 意味着服务和 keystone 的时钟不一致 (检查 NTP/chrony), 或者验证时允许了过期 token (allow_expired, 配合服务 token 用于长时间操作)。",
	},
}
