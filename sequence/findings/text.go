package findings

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authflow/authflow/sequence"
)

// lang is the language summaries and details are written in.
type lang int

const (
	langEN lang = iota
	langZH
)

// Languages lists the languages of summaries and details.
func Languages() []string { return []string{"en", "zh"} }

func langOf(s string) lang {
	if strings.EqualFold(s, "zh") || strings.HasPrefix(strings.ToLower(s), "zh-") || strings.HasPrefix(strings.ToLower(s), "zh_") {
		return langZH
	}
	return langEN
}

// plural writes "1 thing" or "2 things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// times writes "once", "twice", "3 times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return strconv.Itoa(n) + " times"
}

// dur writes a duration for people: "4.2 ms", "376 ms", "1.004 s",
// "300 s".
func dur(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return trimZeros(strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)) + " ms"
	case d < time.Second:
		return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + " ms"
	case d < 10*time.Second:
		return trimZeros(strconv.FormatFloat(d.Round(time.Millisecond).Seconds(), 'f', 3, 64)) + " s"
	}
	return strconv.FormatInt(int64(d.Round(time.Second)/time.Second), 10) + " s"
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// clock writes a time of day in UTC.
func clock(t time.Time) string {
	return t.UTC().Format("15:04:05") + " UTC"
}

// list joins at most max items, saying how many more there are.
func list(l lang, items []string, max int) string {
	more := 0
	if len(items) > max {
		more = len(items) - max
		items = items[:max]
	}
	if l == langZH {
		s := strings.Join(items, "、")
		if more > 0 {
			s += fmt.Sprintf(" 等 %d 个", len(items)+more)
		}
		return s
	}
	s := strings.Join(items, ", ")
	if more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

func at(name, endpoint string) string {
	if endpoint == "" {
		return name
	}
	return name + " (" + endpoint + ")"
}

func port(endpoint string) string {
	if i := strings.LastIndexByte(endpoint, ':'); i >= 0 && i < len(endpoint)-1 {
		return endpoint[i+1:]
	}
	return "11211"
}

type cacheFailureFacts struct {
	Service, Cache, Endpoint string
	Refused, Resets          int
	Validations, Queries     int
	Recovered                bool
	Config                   string
}

type peerCacheFailureFacts struct {
	Peer, Cache, Endpoint string
	Refused, Resets       int
}

func (f peerCacheFailureFacts) text(l lang) (string, string) {
	if l == langZH {
		var what []string
		if f.Refused > 0 {
			what = append(what, fmt.Sprintf("%d 次连接被拒绝", f.Refused))
		}
		if f.Resets > 0 {
			what = append(what, fmt.Sprintf("%d 次连接被重置", f.Resets))
		}
		s := fmt.Sprintf("%s (不是已知的 OpenStack 服务) 连不上 %s: %s", f.Peer, at(f.Cache, f.Endpoint), strings.Join(what, "、"))
		d := "一个 authflow 不认识的程序 (端口探测、监控检查、脚本) 连接缓存失败"
		if f.Refused > 0 {
			d += " (连接被拒绝: 当时那里没有进程在监听)"
		}
		d += "。这里只如实记录; 要看的是服务自己的缓存访问是否也失败了, 那会有单独的发现。"
		return s, d
	}
	var what []string
	if f.Refused > 0 {
		what = append(what, plural(f.Refused, "connection", "connections")+" refused")
	}
	if f.Resets > 0 {
		what = append(what, plural(f.Resets, "connection", "connections")+" reset")
	}
	s := fmt.Sprintf("%s, no known OpenStack service, could not reach %s: %s", f.Peer, at(f.Cache, f.Endpoint), strings.Join(what, ", "))
	d := "A program authflow does not know as a service (a port probe, a monitoring check, a script) failed to connect to the cache"
	if f.Refused > 0 {
		d += " (refused: nothing listened there then)"
	}
	d += ". This only records what happened; what matters is whether a service's own cache traffic failed too, which has a finding of its own."
	return s, d
}

func (f cacheFailureFacts) unreachable(l lang) (string, string) {
	ss := "'sport = :" + port(f.Endpoint) + "'"
	if l == langZH {
		var what []string
		if f.Refused > 0 {
			what = append(what, fmt.Sprintf("%d 次连接被拒绝", f.Refused))
		}
		if f.Resets > 0 {
			what = append(what, fmt.Sprintf("%d 次连接被重置", f.Resets))
		}
		s := fmt.Sprintf("%s 连不上它的 token 缓存 %s: %s", f.Service, at(f.Cache, f.Endpoint), strings.Join(what, "、"))
		if f.Validations > 0 {
			s += fmt.Sprintf("; 每个 token 都只能去 keystone 验证 (%d 次验证, keystone 数据库 %d 条查询)", f.Validations, f.Queries)
		}
		if f.Recovered {
			s += "; 之后缓存恢复了"
		}
		d := fmt.Sprintf("%s 里 keystonemiddleware 的 auth_token 连不上 memcached", f.Service)
		if f.Endpoint != "" {
			d += " " + f.Endpoint
		}
		if f.Refused > 0 {
			d += " (连接被拒绝: 那里没有进程在监听)"
		}
		d += ", 既查不了缓存也存不进去: 每个带 token 的请求都要去 keystone 验证一次, 请求变慢, keystone 和它的数据库负载变大。"
		d += "请检查 memcached 是否在运行、是否监听这个地址 (systemctl status memcached; ss -ltnp " + ss + "), 以及 " + f.Config + " 中 [keystone_authtoken] 的 memcached_servers。"
		return s, d
	}
	var what []string
	if f.Refused > 0 {
		what = append(what, plural(f.Refused, "connection", "connections")+" refused")
	}
	if f.Resets > 0 {
		what = append(what, plural(f.Resets, "connection", "connections")+" reset")
	}
	s := fmt.Sprintf("%s could not reach its token cache %s: %s", f.Service, at(f.Cache, f.Endpoint), strings.Join(what, ", "))
	if f.Validations > 0 {
		s += fmt.Sprintf("; every token was validated with keystone instead (%s, %d keystone DB queries)", plural(f.Validations, "validation", "validations"), f.Queries)
	}
	if f.Recovered {
		s += "; the cache came back later"
	}
	d := "keystonemiddleware's auth_token in " + f.Service + " could not connect to memcached"
	if f.Endpoint != "" {
		d += " at " + f.Endpoint
	}
	if f.Refused > 0 {
		d += " (connection refused: nothing listens there)"
	}
	d += ", so it could neither look tokens up nor store them: every request carrying a token costs a validation call to keystone, " +
		"which adds keystone's latency to the request and load to keystone and its database. " +
		"Check that memcached is running and listening there (systemctl status memcached; ss -ltnp " + ss + "), " +
		"and memcached_servers in [keystone_authtoken] of " + f.Config + "."
	return s, d
}

func (f cacheFailureFacts) reset(l lang) (string, string) {
	if l == langZH {
		s := fmt.Sprintf("%s 到 token 缓存 %s 的连接被重置了 %d 次 (memcached 重启过?): 这些查询按未命中处理, %d 个 token 去 keystone 验证, 之后缓存恢复正常",
			f.Service, at(f.Cache, f.Endpoint), f.Resets, f.Validations)
		d := fmt.Sprintf("%[1]s 的每个 worker 进程都保持一条到 memcached 的长连接。memcached 重启 (或防火墙、conntrack 丢掉空闲连接) 之后, worker 在旧连接上发出的下一条命令会收到 TCP RST: "+
			"keystonemiddleware 当作未命中, 去 keystone 验证 token, 再新建连接写入缓存。每个 worker 都要付一次这个代价, 重启前缓存的 token 也全部丢失。"+
			"如果反复出现, 请查 memcached 的重启或 OOM (journalctl -u memcached), 以及 %[1]s 与 memcached 之间的空闲超时。", f.Service)
		return s, d
	}
	s := fmt.Sprintf("%s's connections to its token cache %s were reset %s (memcached restarted?): the look-ups counted as misses, %s validated with keystone, then the cache worked again",
		f.Service, at(f.Cache, f.Endpoint), times(f.Resets), plural(f.Validations, "token", "tokens"))
	d := fmt.Sprintf("Each %[1]s worker keeps a pooled connection to memcached. When memcached restarts (or a firewall or conntrack drops an idle connection), "+
		"the worker's next command on its old connection is answered by a TCP reset: keystonemiddleware treats it as a miss, validates the token with keystone "+
		"and reconnects for the store. Each worker pays this once, and every token cached before the restart is gone. "+
		"If it recurs, look for memcached restarts or OOM kills (journalctl -u memcached) and idle timeouts between %[1]s and memcached.", f.Service)
	return s, d
}

type cacheErrorFacts struct {
	Service, Cache string
	Count          int
	First          string
}

func (f cacheErrorFacts) text(l lang) (string, string) {
	first := f.First
	if l == langZH {
		if first == "" {
			first = "未存入"
		}
		s := fmt.Sprintf("%s 对 %s 的 %d 条命令返回错误或没有存入 (第一条: %s)", f.Cache, f.Service, f.Count, first)
		d := "keystonemiddleware 忽略缓存错误, 改去 keystone 验证; 存不进去就意味着每个请求都要验证一次。" +
			"SERVER_ERROR out of memory 或 NOT_STORED: memcached 满了 (-m) 或者值超过了单项大小上限 (-I, 默认 1 MiB); 用 `echo stats | nc HOST 11211` 看 evictions 和 limit_maxbytes。"
		return s, d
	}
	if first == "" {
		first = "not stored"
	}
	s := fmt.Sprintf("%s answered %s of %s with an error or did not store them (first: %s)", f.Cache, plural(f.Count, "command", "commands"), f.Service, first)
	d := "keystonemiddleware ignores cache errors and validates with keystone instead, so entries that are not stored mean a validation on every request. " +
		"SERVER_ERROR out of memory or NOT_STORED: memcached is full (-m) or the value exceeds its item size limit (-I, 1 MiB by default); " +
		"check `echo stats | nc HOST 11211` (evictions, limit_maxbytes)."
	return s, d
}

type cacheHitFacts struct {
	Service, Cache string
	Hits, Lookups  int
	Tokens         []string
}

func (f cacheHitFacts) text(l lang) (string, string) {
	if l == langZH {
		s := fmt.Sprintf("token 缓存在起作用: %s 的 %d 次查询中 %d 次命中 (%s), %d 个请求没有去问 keystone", f.Service, f.Lookups, f.Hits, list(l, f.Tokens, 4), f.Hits)
		d := "keystonemiddleware 在 memcached 里找到了已验证的 token, 省掉了对 keystone 的调用: 这些请求既没有验证, 也没有 keystone 数据库查询。" +
			"只有同一个 token 在 token_cache_time (默认 300 秒) 内再次出现才会命中: 一条 CLI 命令内的多次调用、SDK 会话、服务之间转发用户 token 都能受益; 每条命令都换新 token 的客户端永远不会命中。" +
			"反过来说: 在缓存里找到的 token, 在缓存过期之前不会再检查是否已被吊销。"
		return s, d
	}
	s := fmt.Sprintf("token cache working: %d of %s by %s hit (%s): %s served without asking keystone",
		f.Hits, plural(f.Lookups, "look-up", "look-ups"), f.Service, list(l, f.Tokens, 4), plural(f.Hits, "request", "requests"))
	d := "keystonemiddleware found the validated token in memcached and skipped the call to keystone: no validation and no keystone database work for these requests. " +
		"A hit needs the same token again within token_cache_time (300 s by default): one CLI command making several calls, an SDK session, or a service passing a user's token on benefit; " +
		"a client that gets a new token for every command always misses. " +
		"The flip side: a token found in the cache is not checked for revocation until its entry expires."
	return s, d
}

type cacheNeverHitFacts struct {
	Service, Cache  string
	Lookups, Stores int
	AllNew          bool
	ClientReauth    bool
}

func (f cacheNeverHitFacts) text(l lang) (string, string) {
	if l == langZH {
		if !f.AllNew {
			s := fmt.Sprintf("token 缓存从未命中: %s 查询了 %d 次, 全部未命中, 其中有些 token 之前已经查过或存过", f.Service, f.Lookups)
			d := fmt.Sprintf("之前查过或存过的 token 应该能找到: 请检查 %s 的每个 worker 和每台主机的 memcached_servers、memcache_security_strategy 和 memcache_secret_key 是否一致 (用另一个密钥写入的条目键不同), 以及 memcached 的 evictions 和重启。", f.Service)
			return s, d
		}
		s := fmt.Sprintf("token 缓存从未命中: %s 查询 %d 次全部未命中, 存入 %d 次 —— 每次查询的都是它第一次见到的 token", f.Service, f.Lookups, f.Stores)
		if f.ClientReauth {
			s += " (客户端每条命令都换了新 token)"
		}
		d := "缓存本身是正常的 (条目都存进去了), 但没有哪个 token 在缓存期内再次出现: 只有同一个 token 在 token_cache_time (默认 300 秒) 内再来一次才能命中。"
		if f.Stores == 0 {
			d = "什么都没有存入 (无效的 token 不会被缓存), 也没有哪个 token 再次出现: 只有同一个有效 token 在 token_cache_time (默认 300 秒) 内再来一次才能命中。"
		}
		if f.ClientReauth {
			d += "这里客户端的每条命令都重新认证, 新 token 在缓存里当然找不到, 每次都要去 keystone 验证; 多条命令共用一个 token, 后面的命令就会命中缓存 (见 client-reauth-every-command)。"
		} else {
			d += "每个 token 只用于一个请求 (或者由不同的服务使用)。"
		}
		return s, d
	}
	if !f.AllNew {
		s := fmt.Sprintf("token cache never hit: %s by %s, all misses, some for tokens it had seen before", plural(f.Lookups, "look-up", "look-ups"), f.Service)
		d := fmt.Sprintf("Tokens that had been looked up or stored before should have been found: check that every worker and host of %s has the same memcached_servers, "+
			"memcache_security_strategy and memcache_secret_key (entries written under another secret have other keys), and memcached's evictions and restarts.", f.Service)
		return s, d
	}
	s := fmt.Sprintf("token cache never hit: %s by %s, all misses, %d stored; every look-up was for a token %s had not seen before",
		plural(f.Lookups, "look-up", "look-ups"), f.Service, f.Stores, f.Service)
	if f.ClientReauth {
		s += " (the client got a new token for each command)"
	}
	d := "The cache itself works (entries were stored), but no token came back while it was cached: a look-up can only hit when the same token is presented again " +
		"within token_cache_time (300 s by default). "
	if f.Stores == 0 {
		d = "Nothing was stored (invalid tokens are not cached) and no token came back: a look-up can only hit when the same valid token is presented again " +
			"within token_cache_time (300 s by default). "
	}
	if f.ClientReauth {
		d += "Here each command of the client authenticated anew, so each new token missed and cost a validation with keystone; " +
			"reusing one token across commands would make the later ones cache hits (see client-reauth-every-command)."
	} else {
		d += "Each token was used for one request only (or by different services)."
	}
	return s, d
}

type missAfterStoreFacts struct {
	Service   string
	Count     int
	Token     string
	Age       time.Duration
	CacheTime time.Duration
}

func (f missAfterStoreFacts) text(l lang) (string, string) {
	if l == langZH {
		s := fmt.Sprintf("%s 有 %d 次没找到刚存入不久的缓存条目 (%s 存入 %s 后未命中)", f.Service, f.Count, f.Token, dur(f.Age))
		d := fmt.Sprintf("条目应该还在 memcached 里 (缓存时间 token_cache_time, 这里按 %s 算)。可能被淘汰了 (memcached 满了: 看 stats 的 evictions, 调大 -m)、memcached 重启过, "+
			"或者这次查询去了另一台 memcached、用了与写入时不同的 memcache_secret_key (worker 或主机之间配置不一致)。", dur(f.CacheTime))
		return s, d
	}
	s := fmt.Sprintf("%s missed %s it had stored shortly before (%s: missed %s after it was stored)",
		f.Service, plural(f.Count, "cache entry", "cache entries"), f.Token, dur(f.Age))
	d := fmt.Sprintf("The entry should still have been in memcached (kept for token_cache_time, assumed %s). It was evicted (memcached full: `stats` evictions, raise -m), "+
		"memcached restarted, or the look-up went to another memcached server or used another memcache_secret_key than the store "+
		"(settings differing across workers or hosts).", dur(f.CacheTime))
	return s, d
}

type protectedFacts struct {
	Service, Cache string
	Keys           int
	BytesRepr      bool
}

func (f protectedFacts) text(l lang) (string, string) {
	if l == langZH {
		s := fmt.Sprintf("token 缓存启用了 memcache_security_strategy (MAC 或 ENCRYPT): 没有 --memcache-secret, authflow 无法把 %d 个缓存键对应到 token", f.Keys)
		d := f.Service + " 用 memcache_secret_key 的 HMAC 派生缓存键, 并对值做认证 (ENCRYPT 还会加密), 缓存里没有明文 token —— 这是好的做法。" +
			"要看出每个条目缓存的是哪个 token (从而判断命中的是不是同一个 token), 请用 --memcache-secret 指定 [keystone_authtoken] 中的 memcache_secret_key 重新分析。"
		if f.BytesRepr {
			d += "缓存键形如 tokens/b'…': keystonemiddleware 在 Python 3 下用 %s 格式化了 bytes (10.1.0 中可见)。无害, 但其它版本的 keystonemiddleware 给同一条目起的名字不带 b'…', 版本混用的服务之间不能共享缓存。"
		}
		return s, d
	}
	s := fmt.Sprintf("token cache protected with memcache_security_strategy (MAC or ENCRYPT): authflow cannot tie %s to tokens without --memcache-secret",
		plural(f.Keys, "cache key", "cache keys"))
	d := f.Service + " stores validated tokens under keys derived with an HMAC of memcache_secret_key and authenticates (with ENCRYPT also encrypts) the values, " +
		"so the cache holds no token in clear: good practice. To see which token each entry caches, and so whether hits are for the same token, " +
		"rerun with --memcache-secret set to memcache_secret_key from [keystone_authtoken]."
	if f.BytesRepr {
		d += " The keys look like tokens/b'…': keystonemiddleware formats the key bytes with %s under Python 3 (seen with 10.1.0). " +
			"Harmless, but other keystonemiddleware versions name the same entry without b'…', so services on mixed versions do not share cached tokens."
	}
	return s, d
}

type unprotectedFacts struct {
	Service, Cache, Endpoint string
	Entries                  int
	Config                   string
}

func (f unprotectedFacts) text(l lang) (string, string) {
	where := ""
	if f.Endpoint != "" {
		where = " " + f.Endpoint
	}
	if l == langZH {
		s := fmt.Sprintf("token 缓存未加保护: %s 把 %d 个已验证的 token 以明文存进了 %s", f.Service, f.Entries, f.Cache)
		d := "没有设置 memcache_security_strategy 时, 缓存键是 token 的 SHA-256, 值是 keystone 的验证结果再加上 token 本身 (auth_token): " +
			"任何能连上 memcached" + where + " 的人都能读到有效的 token, 并在过期前使用它们。" +
			"请在 " + f.Config + " 的 [keystone_authtoken] 中设置 memcache_security_strategy = ENCRYPT 和 memcache_secret_key, 并且只让服务能访问 memcached。"
		return s, d
	}
	s := fmt.Sprintf("token cache unprotected: %s stored %s in %s in clear", f.Service, plural(f.Entries, "validated token", "validated tokens"), f.Cache)
	d := "Without memcache_security_strategy the key is the token's SHA-256 and the value is keystone's validation answer plus the token itself (auth_token): " +
		"whoever can connect to memcached" + where + " can read valid tokens and use them until they expire. " +
		"Set memcache_security_strategy = ENCRYPT and memcache_secret_key in [keystone_authtoken] of " + f.Config + ", and let only the services reach memcached."
	return s, d
}

type notSeenFacts struct {
	Service     string
	Validations int
	Config      string
}

func (f notSeenFacts) text(l lang) (string, string) {
	if l == langZH {
		s := fmt.Sprintf("%s 去 keystone 验证了 %d 次 token, 抓包里却没有任何 token 缓存的流量", f.Service, f.Validations)
		d := "要么 " + f.Config + " 的 [keystone_authtoken] 没有设置 memcached_servers —— keystonemiddleware 这时只在每个 worker 进程的内存里缓存 token, worker 之间、主机之间都不共享 —— " +
			"要么缓存走的是没有抓到的接口或主机 (把回环接口也抓上)。"
		return s, d
	}
	s := fmt.Sprintf("%s validated %s with keystone and no token cache traffic was captured", f.Service, plural(f.Validations, "token", "tokens"))
	d := "Either memcached_servers is not set in [keystone_authtoken] of " + f.Config + ": keystonemiddleware then caches tokens in each worker process's memory only, " +
		"shared neither between workers nor hosts; or the cache is reached over an interface or host that was not captured (capture the loopback too)."
	return s, d
}

type serviceAuthFacts struct {
	Service     string
	Issues      int
	IssueTime   time.Duration
	Queries     int
	Tokens      []string
	Preexisting int
	Validations int
	Config      string
}

func (f serviceAuthFacts) text(l lang) (string, string) {
	if l == langZH {
		var s string
		if f.Issues > 0 {
			s = fmt.Sprintf("%s 自己认证了 %d 次 (%s, keystone 数据库 %d 条查询), 用它自己的 %d 个 token (%s) 验证了 %d 个用户 token",
				f.Service, f.Issues, dur(f.IssueTime), f.Queries, len(f.Tokens), list(l, f.Tokens, 4), f.Validations)
		} else {
			s = fmt.Sprintf("%s 用它自己的 %d 个不同的 token (%s, 都是抓包开始前获得的) 验证了 %d 个用户 token", f.Service, len(f.Tokens), list(l, f.Tokens, 4), f.Validations)
		}
		d := "keystonemiddleware 第一次需要验证 token 时先让服务自己认证 (用 " + f.Config + " 中 [keystone_authtoken] 的用户), 然后把这个 token 保存在 worker 进程的内存里, 直到快过期。" +
			"每个 worker 都认证一次, 所以有几个 worker 就会有几个服务 token, 这是正常的; worker 处理的第一个请求要为这次认证买单"
		if f.Issues > 0 {
			d += fmt.Sprintf(" (这里是 %s)", dur(f.IssueTime))
		}
		d += "。"
		if f.Issues > 0 && f.Preexisting > 0 {
			d += fmt.Sprintf("其中 %d 个 token 是抓包开始前获得的。", f.Preexisting)
		}
		return s, d
	}
	var s string
	if f.Issues > 0 {
		s = fmt.Sprintf("%s authenticated itself %s (%s, %d keystone DB queries) and validated %s with %s of its own (%s)",
			f.Service, times(f.Issues), dur(f.IssueTime), f.Queries, plural(f.Validations, "user token", "user tokens"),
			plural(len(f.Tokens), "service token", "service tokens"), list(l, f.Tokens, 4))
	} else {
		s = fmt.Sprintf("%s validated %s with %s of its own (%s), obtained before the capture",
			f.Service, plural(f.Validations, "user token", "user tokens"), plural(len(f.Tokens), "service token", "different service tokens"), list(l, f.Tokens, 4))
	}
	d := "keystonemiddleware authenticates the service itself (the user of [keystone_authtoken] in " + f.Config + ") the first time it needs to validate a token, " +
		"and keeps that token in the worker process's memory until it nears expiry. Each worker does so once, so several service tokens are normal with several workers; " +
		"the first request a worker serves pays for the authentication"
	if f.Issues > 0 {
		d += " (" + dur(f.IssueTime) + " here)"
	}
	d += "."
	if f.Issues > 0 && f.Preexisting > 0 {
		d += " " + plural(f.Preexisting, "of these tokens was", "of these tokens were") + " obtained before the capture started."
	}
	return s, d
}

func (f serviceAuthFacts) reauth(l lang) (string, string) {
	avg, q := time.Duration(0), 0
	if f.Issues > 0 {
		avg, q = f.IssueTime/time.Duration(f.Issues), f.Queries/f.Issues
	}
	if l == langZH {
		s := fmt.Sprintf("%s 每次验证都重新认证自己: %d 次验证用了 %d 个新的服务 token, 每个只用一次", f.Service, f.Validations, f.Issues)
		d := fmt.Sprintf("keystonemiddleware 通常会一直使用自己的服务 token 直到快过期; 每个请求都换新 token, 就给每个未命中缓存的请求多加了一次密码认证 (这里平均 %s, keystone 数据库 %d 条查询)。"+
			"请检查服务进程是否每个请求都被重启 (uwsgi/mod_wsgi 的 max-requests)、keystone 的 token 有效期 ([token] expiration) 是否太短, 以及 %s 中 [keystone_authtoken] 的认证设置。"+
			"如果正好有这么多刚启动的 worker, 这也可能只是每个 worker 的第一个请求。", dur(avg), q, f.Config)
		return s, d
	}
	s := fmt.Sprintf("%s authenticated itself for every validation: %d new service tokens for %s, each used once", f.Service, f.Issues, plural(f.Validations, "validation", "validations"))
	d := fmt.Sprintf("keystonemiddleware normally keeps its service token until it nears expiry; getting a new one per request adds a password authentication "+
		"(%s and %d keystone DB queries on average here) to every request that misses the cache. Check that the service processes are not restarted per request "+
		"(uwsgi/mod_wsgi max-requests), that keystone's token lifetime ([token] expiration) is not tiny, and the auth settings in [keystone_authtoken] of %s. "+
		"With as many freshly started worker processes, this is also what each worker's first request looks like.", dur(avg), q, f.Config)
	return s, d
}

type clientReauthFacts struct {
	Client    string
	Tokens    []string
	Uses      []int
	Span      time.Duration
	IssueTime time.Duration
	Queries   int
}

func (f clientReauthFacts) text(l lang) (string, string) {
	n := len(f.Tokens)
	avg, q := time.Duration(0), 0
	if n > 0 {
		avg, q = f.IssueTime/time.Duration(n), f.Queries/n
	}
	var uses []string
	for i, t := range f.Tokens {
		if i < len(f.Uses) {
			uses = append(uses, fmt.Sprintf("%s: %d", t, f.Uses[i]))
		}
	}
	if l == langZH {
		s := fmt.Sprintf("%s 每条命令都要一个新 token: %s 内请求了 %d 个 token (%s), 而前一个 token 都还有效", f.Client, dur(f.Span), n, list(l, f.Tokens, 4))
		d := fmt.Sprintf("每次运行 `openstack` 命令 (或用密码认证的脚本) 都从头认证 (POST /v3/auth/tokens: 这里平均 %s, keystone 数据库 %d 条查询), "+
			"而新 token 不在任何服务的 token 缓存里, 所以它对每个服务的第一次调用都未命中, 要去 keystone 验证。每个 token 的请求数: %s。"+
			"要连续执行很多命令, 请共用一个 token (export OS_AUTH_TYPE=token OS_TOKEN=$(openstack token issue -f value -c id), 保留 OS_AUTH_URL 和项目设置), "+
			"或者在一个进程里执行 (openstack 交互模式, 或只用一个 SDK/keystoneauth 会话的脚本)。", dur(avg), q, list(l, uses, 6))
		return s, d
	}
	s := fmt.Sprintf("%s got a new token for each command: %d token requests in %s (%s), each while the previous token was still valid",
		f.Client, n, dur(f.Span), list(l, f.Tokens, 4))
	d := fmt.Sprintf("Each `openstack` CLI run (or script run with a password) authenticates from scratch (POST /v3/auth/tokens: %s and %d keystone DB queries on average here), "+
		"and its new token is unknown to every service's token cache, so its first call to each service misses the cache and costs a validation with keystone. "+
		"Requests per token: %s. To run many commands, reuse one token (export OS_AUTH_TYPE=token OS_TOKEN=$(openstack token issue -f value -c id), "+
		"keeping OS_AUTH_URL and the project settings) or run them in one process (openstack's interactive mode, or a script with one SDK/keystoneauth session).",
		dur(avg), q, list(l, uses, 6))
	return s, d
}

type revalidatedFacts struct {
	Token    string
	Count    int
	Span     time.Duration
	Services []string
}

func (f revalidatedFacts) text(l lang) (string, string) {
	if l == langZH {
		s := fmt.Sprintf("token %s 在 %s 内被 %s 拿去 keystone 验证了 %d 次", f.Token, dur(f.Span), list(l, f.Services, 3), f.Count)
		d := "在 token_cache_time 之内, 正常工作的 token 缓存会直接返回已验证的 token, 不必再问 keystone。重复验证说明缓存没起作用: " +
			"没有设置 memcached_servers 时每个 worker 进程各自缓存 (每个 worker 验证一次), 或者缓存连不上、条目被淘汰、各 worker 的缓存键不同。"
		return s, d
	}
	s := fmt.Sprintf("token %s was validated with keystone %d times in %s (by %s)", f.Token, f.Count, dur(f.Span), list(l, f.Services, 3))
	d := "Within token_cache_time a working token cache returns the validated token without asking keystone again. Repeated validations mean the cache was missed: " +
		"without memcached_servers each worker process caches on its own (one validation per worker), or the cache was unreachable, evicted the entry, " +
		"or is keyed differently per worker."
	return s, d
}

type slowItem struct {
	Seq     int
	Who     string
	Token   string
	Took    time.Duration
	Status  int
	Queries int
	Rows    int
	DBBusy  time.Duration
	// Exact is set when DBBusy is the database's time, not the span of a
	// summed-up run of statements.
	Exact   bool
	NewConn bool
}

type slowFacts struct {
	Issue     bool
	Items     []slowItem
	Threshold time.Duration
}

func (f slowFacts) text(l lang) (string, string) {
	slowest := f.Items[0]
	for _, it := range f.Items {
		if it.Took > slowest.Took {
			slowest = it
		}
	}
	// The slowest first; the others are counted.
	listed := slices.Clone(f.Items)
	slices.SortStableFunc(listed, func(x, y slowItem) int { return cmp.Compare(y.Took, x.Took) })
	const maxListed = 5
	more := max(len(listed)-maxListed, 0)
	listed = listed[:len(listed)-more]
	var lines []string
	for _, it := range listed {
		var b strings.Builder
		if l == langZH {
			fmt.Fprintf(&b, "#%d (%s", it.Seq, it.Who)
			if it.Token != "" {
				fmt.Fprintf(&b, ", token %s", it.Token)
			}
			fmt.Fprintf(&b, "): %s, 数据库 %d 条查询, %s %s", dur(it.Took), it.Queries, dbWord(l, it.Exact), dur(it.DBBusy))
			if it.NewConn {
				b.WriteString(", 新建了数据库连接")
			}
		} else {
			fmt.Fprintf(&b, "seq %d (%s", it.Seq, it.Who)
			if it.Token != "" {
				fmt.Fprintf(&b, ", token %s", it.Token)
			}
			fmt.Fprintf(&b, "): %s, %d DB queries, %s %s", dur(it.Took), it.Queries, dbWord(l, it.Exact), dur(it.DBBusy))
			if it.NewConn {
				b.WriteString(", new DB connection")
			}
		}
		lines = append(lines, b.String())
	}
	if more > 0 {
		if l == langZH {
			lines = append(lines, fmt.Sprintf("另有 %d 次较快的", more))
		} else {
			lines = append(lines, fmt.Sprintf("and %d more, faster", more))
		}
	}
	dbBound := slowest.Exact && slowest.DBBusy*2 >= slowest.Took
	cpuBound := slowest.Exact && !dbBound
	if l == langZH {
		what := "token 验证"
		if f.Issue {
			what = "token 签发"
		}
		s := fmt.Sprintf("%d 次%s超过 %s, 最慢的一次 %s (#%d, %s): 其间 keystone 执行了 %d 条数据库查询, %s %s",
			len(f.Items), what, dur(f.Threshold), dur(slowest.Took), slowest.Seq, who(l, slowest, f.Issue), slowest.Queries, dbWord(l, slowest.Exact), dur(slowest.DBBusy))
		if len(f.Items) == 1 {
			s = fmt.Sprintf("%s花了 %s (超过 %s; #%d, %s): 其间 keystone 执行了 %d 条数据库查询, %s %s",
				what, dur(slowest.Took), dur(f.Threshold), slowest.Seq, who(l, slowest, f.Issue), slowest.Queries, dbWord(l, slowest.Exact), dur(slowest.DBBusy))
		}
		d := strings.Join(lines, "; ") + "。"
		switch {
		case dbBound:
			d += "大部分时间 keystone 在等数据库: 请看数据库服务器 (负载、慢查询日志、到它的网络延迟) 以及 keystone 读的表 (assignment, 大量吊销 token 后的 revocation_event)。"
		case !cpuBound:
			d += fmt.Sprintf("keystone 的查询分布在 %s 中的 %s 里; 这里只看到汇总的第一条和最后一条, 分不清数据库时间和 keystone 自己在查询之间的工作 (用 --detail 重新分析可以看到每条语句的时间)。"+
				"如果是数据库慢, 请看数据库服务器 (负载、慢查询日志、网络延迟) 以及 assignment、revocation_event 表; 否则时间花在 keystone 自己身上: 进程/线程都在忙 (uwsgi processes × threads)、CPU", dur(slowest.Took), dur(slowest.DBBusy))
			if f.Issue {
				d += " (签发时的密码哈希: [identity] password_hash_algorithm / password_hash_rounds)"
			}
			d += ", 或者读取 fernet 密钥目录很慢。"
		default:
			d += fmt.Sprintf("数据库只忙了 %s (共 %s): 时间花在 keystone 自己身上 —— 所有进程/线程都在忙 (uwsgi processes × threads)、CPU", dur(slowest.DBBusy), dur(slowest.Took))
			if f.Issue {
				d += " (签发时的密码哈希: [identity] password_hash_algorithm / password_hash_rounds)"
			}
			d += ", 或者读取 fernet 密钥目录很慢。"
		}
		if slowest.NewConn {
			d += "期间 keystone 新建了数据库连接: 重启后的头几个请求会更慢。"
		}
		if !f.Issue {
			d += "每次验证都是由一个未命中 token 缓存的请求承担的。"
		}
		return s, d
	}
	what := "token validation"
	if f.Issue {
		what = "token issue"
	}
	s := fmt.Sprintf("%d %ss took longer than %s, the slowest %s (seq %d, %s): keystone ran %d DB queries meanwhile, %s %s",
		len(f.Items), what, dur(f.Threshold), dur(slowest.Took), slowest.Seq, who(l, slowest, f.Issue), slowest.Queries, dbWord(l, slowest.Exact), dur(slowest.DBBusy))
	if len(f.Items) == 1 {
		s = fmt.Sprintf("%s took %s (over %s; seq %d, %s): keystone ran %d DB queries meanwhile, %s %s",
			what, dur(slowest.Took), dur(f.Threshold), slowest.Seq, who(l, slowest, f.Issue), slowest.Queries, dbWord(l, slowest.Exact), dur(slowest.DBBusy))
	}
	d := strings.Join(lines, "; ") + ". "
	switch {
	case dbBound:
		d += "Most of the time keystone was waiting for its database: look at the database server (load, slow query log, latency to it) " +
			"and the tables keystone reads (assignment; revocation_event, large when many tokens are revoked)."
	case !cpuBound:
		d += fmt.Sprintf("Keystone's statements spread over %s of the %s; summed up like this, database time and keystone's own work between statements "+
			"cannot be told apart (rerun with --detail to get each statement's time). If the database is slow, look at the database server (load, slow query log, "+
			"latency to it) and the assignment and revocation_event tables; otherwise the time goes into keystone itself: all its processes or threads busy "+
			"(uwsgi processes × threads), CPU", dur(slowest.DBBusy), dur(slowest.Took))
		if f.Issue {
			d += " (password hashing on issue: [identity] password_hash_algorithm and password_hash_rounds)"
		}
		d += ", or slow access to the fernet key repository."
	default:
		d += fmt.Sprintf("The database was busy for only %s of %s: the time went into keystone itself: all its processes or threads busy (uwsgi processes × threads), CPU",
			dur(slowest.DBBusy), dur(slowest.Took))
		if f.Issue {
			d += " (password hashing on issue: [identity] password_hash_algorithm and password_hash_rounds)"
		}
		d += ", or slow access to the fernet key repository."
	}
	if slowest.NewConn {
		d += " Keystone opened a new database connection meanwhile: the first requests after a restart are slower."
	}
	if !f.Issue {
		d += " Each validation is paid by a request that missed the token cache."
	}
	return s, d
}

// dbWord says what the database time is: busy time, or the span of a
// summed-up run of statements.
func dbWord(l lang, exact bool) string {
	switch {
	case l == langZH && exact:
		return "数据库忙了"
	case l == langZH:
		return "分布在"
	case exact:
		return "the database busy for"
	}
	return "spread over"
}

// who names the slow exchange: the token validated, or who asked for a
// token.
func who(l lang, it slowItem, issue bool) string {
	if issue || it.Token == "" {
		if l == langZH {
			return it.Who + " 请求"
		}
		return "by " + it.Who
	}
	return "token " + it.Token
}

type queryStep struct {
	Seq     int
	Kind    sequence.Kind
	Request string
	Queries int
}

func (q queryStep) name(l lang) string {
	switch q.Kind {
	case sequence.KindTokenValidate:
		if l == langZH {
			return "token 验证"
		}
		return "token validation"
	case sequence.KindTokenIssue:
		if l == langZH {
			return "token 签发"
		}
		return "token issue"
	case sequence.KindTokenRevoke:
		if l == langZH {
			return "token 吊销"
		}
		return "token revocation"
	}
	if r := strings.TrimSpace(q.Request); r != "" {
		return r
	}
	if l == langZH {
		return "步骤"
	}
	return "step"
}

type manyQueriesFacts struct {
	Service    string
	IsKeystone bool
	Threshold  int
	Steps      []queryStep
}

func (f manyQueriesFacts) text(l lang) (string, string) {
	top := f.Steps[0]
	for _, st := range f.Steps {
		if st.Queries > top.Queries {
			top = st
		}
	}
	var steps []string
	for _, st := range f.Steps {
		if l == langZH {
			steps = append(steps, fmt.Sprintf("%s (#%d) %d", st.name(l), st.Seq, st.Queries))
		} else {
			steps = append(steps, fmt.Sprintf("%s (seq %d) %d", st.name(l), st.Seq, st.Queries))
		}
	}
	if l == langZH {
		s := fmt.Sprintf("%s 在 %d 个步骤中每步都执行了 %d 条以上的 SQL 语句, 最多的一次 (%s) 用了 %d 条", f.Service, len(f.Steps), f.Threshold, top.name(l), top.Queries)
		if len(f.Steps) == 1 {
			s = fmt.Sprintf("%s 为一次 %s (#%d) 执行了 %d 条 SQL 语句", f.Service, top.name(l), top.Seq, top.Queries)
		}
		d := "每步的语句数: " + list(l, steps, 8) + "。"
		if f.IsKeystone {
			d += "keystone 的语句数随它要解析的角色、组、项目和服务目录增长; "
		}
		d += "oslo.db 每次从连接池取连接时还会发一条 `SELECT 1`, 还回时发 ROLLBACK (用 --detail 可以看到每条语句)。每次命中 token 缓存省掉的验证都能省下这些查询。"
		return s, d
	}
	s := fmt.Sprintf("%s ran %d or more SQL statements in each of %d steps, up to %d for one %s",
		f.Service, f.Threshold, len(f.Steps), top.Queries, top.name(l))
	if len(f.Steps) == 1 {
		s = fmt.Sprintf("%s ran %d SQL statements for one %s (seq %d)", f.Service, top.Queries, top.name(l), top.Seq)
	}
	d := "Statements per step: " + list(l, steps, 8) + ". "
	if f.IsKeystone {
		d += "Keystone's count grows with the roles, groups, projects and catalog it resolves; "
	}
	d += "oslo.db adds a `SELECT 1` when it checks a connection out of its pool and a ROLLBACK when it gives it back (run with --detail to see every statement). " +
		"Each validation a token cache hit avoids saves these queries."
	return s, d
}

// categories writes the non-zero counts of failure categories.
func categories(l lang, c byCategory) string {
	var parts []string
	for cat, n := range c {
		if n == 0 {
			continue
		}
		if l == langZH {
			parts = append(parts, fmt.Sprintf([]string{
				failServiceCreds: "%d 次服务自身认证被拒",
				failInvalidToken: "%d 个 token 被 keystone 拒绝",
				failPassword:     "%d 次密码认证被拒",
				failForbidden:    "%d 次禁止访问 (403)",
				failUnauthorized: "%d 次被服务以 401 拒绝",
			}[cat], n))
			continue
		}
		parts = append(parts, [...]string{
			failServiceCreds: plural(n, "service authentication", "service authentications") + " refused",
			failInvalidToken: plural(n, "token", "tokens") + " rejected by keystone",
			failPassword:     plural(n, "password authentication", "password authentications") + " refused",
			failForbidden:    fmt.Sprintf("%d forbidden (403)", n),
			failUnauthorized: fmt.Sprintf("%d refused by a service (401)", n),
		}[cat])
	}
	return list(l, parts, failCategories)
}

type authFailureFacts struct {
	Count      int
	Span       time.Duration
	ByCategory byCategory
}

func (f authFailureFacts) text(l lang) (string, string) {
	var ds []string
	c := f.ByCategory
	if l == langZH {
		s := fmt.Sprintf("%d 个请求认证失败: %s", f.Count, categories(l, c))
		if c[failServiceCreds] > 0 {
			ds = append(ds, "服务自己的凭据被拒: [keystone_authtoken] 中的 username/password/project 不对或用户被禁用 —— 每个需要验证的请求都会失败。")
		}
		if c[failInvalidToken] > 0 {
			ds = append(ds, "token 被 keystone 拒绝 (404 Failed to validate token): 已吊销、已过期、格式不对, 或者是用本 keystone 没有的 fernet 密钥签发的 (密钥轮换后没有同步到所有 keystone 节点)。")
		}
		if c[failPassword] > 0 {
			ds = append(ds, "密码认证被拒 (POST /v3/auth/tokens 返回 401): 密码错误、用户或域不存在、用户被禁用, 或账户被锁定 ([security_compliance] lockout_failure_attempts); keystone 的日志里有原因。")
		}
		if c[failForbidden] > 0 {
			ds = append(ds, "403: 认证通过但不允许: 策略 (角色不满足规则), 或者验证 token 的服务用户没有 admin/service 角色。")
		}
		if c[failUnauthorized] > 0 {
			ds = append(ds, "服务返回 401: 它收到的 token 被拒绝了。")
		}
		return s, strings.Join(ds, "")
	}
	s := fmt.Sprintf("%s failed authentication: %s", plural(f.Count, "request", "requests"), categories(l, c))
	if c[failServiceCreds] > 0 {
		ds = append(ds, "A service's own credentials were refused: the username, password or project in its [keystone_authtoken] are wrong, or the user is disabled; every request that needs a validation fails.")
	}
	if c[failInvalidToken] > 0 {
		ds = append(ds, "Tokens rejected by keystone (404 Failed to validate token): revoked, expired, malformed, or made with fernet keys this keystone does not have (keys not synced to every keystone node after a rotation).")
	}
	if c[failPassword] > 0 {
		ds = append(ds, "Password refused (401 on POST /v3/auth/tokens): wrong password, unknown user or domain, disabled user, or a locked-out account ([security_compliance] lockout_failure_attempts); keystone's log says which.")
	}
	if c[failForbidden] > 0 {
		ds = append(ds, "403: authenticated but not allowed: policy (the role does not satisfy the rule), or a service user without the admin or service role validating tokens.")
	}
	if c[failUnauthorized] > 0 {
		ds = append(ds, "401 from a service: the token it was given was refused.")
	}
	return s, strings.Join(ds, " ")
}

type burstFacts struct {
	Count      int
	Span       time.Duration
	Window     time.Duration
	ByCategory byCategory
}

func (f burstFacts) text(l lang) (string, string) {
	if l == langZH {
		s := fmt.Sprintf("认证失败集中爆发: %s 内 %d 次 (%s)", dur(f.Span), f.Count, categories(l, f.ByCategory))
		d := "短时间内大量失败: 脚本或服务拿着错误的密码或失效的 token 不断重试、有人在猜密码, 或者 —— 如果是 fernet 密钥轮换后 token 被拒 —— 各 keystone 节点的密钥不一致。证据帧里有调用方的地址。"
		return s, d
	}
	s := fmt.Sprintf("burst of %d authentication failures within %s (%s)", f.Count, dur(f.Span), categories(l, f.ByCategory))
	d := "Many failures in a short time: a script or service retrying with a wrong password or a stale token, password guessing, or, for tokens rejected right after a fernet key rotation, " +
		"keystone nodes with different keys. The evidence frames show the callers' addresses."
	return s, d
}

type tokenUseFacts struct {
	Token      string
	Uses       int
	Accepted   int
	Status     int
	Delay      time.Duration
	Service    string
	FromCache  bool
	Validated  bool
	At         time.Time
	CacheUntil time.Time
	CacheTime  time.Duration
}

func (f tokenUseFacts) revoked(l lang) (string, string) {
	if l == langZH {
		if f.Accepted == 0 {
			s := fmt.Sprintf("已吊销的 token %s 又被使用了 %d 次并被拒绝 (%d): 吊销生效了", f.Token, f.Uses, f.Status)
			d := "keystone 不再认可已吊销的 token (404 Failed to validate token), 服务拒绝了请求。如果服务先在自己的缓存里找到了这个 token, 它会一直接受到缓存过期 (token_cache_time)。"
			return s, d
		}
		s := fmt.Sprintf("已吊销的 token %s 仍被接受: keystone 吊销它 %s 之后, %s 仍返回 %d", f.Token, dur(f.Delay), f.Service, f.Status)
		var d string
		switch {
		case f.FromCache:
			s += ", 来自它的 token 缓存, 没有问 keystone"
			d = fmt.Sprintf("keystonemiddleware 把验证过的 token 在 memcached 里保存 token_cache_time (这里按 %s 算), 对缓存里找到的 token 不检查吊销: 已吊销的 token 在这个服务上一直可用, 直到缓存条目过期", dur(f.CacheTime))
			if !f.CacheUntil.IsZero() {
				d += " (这里大约到 " + clock(f.CacheUntil) + ")"
			}
			d += "。如果吊销必须立即生效, 请调小 [keystone_authtoken] 的 token_cache_time (每次未命中都要验证一次)。"
		case f.Validated:
			s += ", keystone 自己也说它有效"
			d = "keystone 在吊销之后仍说这个 token 有效: 做验证的 keystone 没看到吊销 (另一个使用自己数据库的 keystone 节点、复制延迟, 或缓存了吊销事件: [revoke] caching)。"
		default:
			d = "抓包里服务没有验证就接受了 token: 它可能在内存里缓存 token (没有 memcached), 或者缓存的流量没有抓到。"
		}
		return s, d
	}
	if f.Accepted == 0 {
		s := fmt.Sprintf("revoked token %s used again %s and refused (%d): the revocation took effect", f.Token, times(f.Uses), f.Status)
		d := "keystone no longer validates a revoked token (404 Failed to validate token) and the service refused the request. " +
			"Had the service found the token in its cache first, it would have accepted it until the entry expired (token_cache_time)."
		return s, d
	}
	s := fmt.Sprintf("revoked token %s still accepted: %s answered %d %s after keystone revoked it", f.Token, f.Service, f.Status, dur(f.Delay))
	var d string
	switch {
	case f.FromCache:
		s += ", from its token cache without asking keystone"
		d = fmt.Sprintf("keystonemiddleware keeps a validated token in memcached for token_cache_time (assumed %s) and does not check revocations for tokens it finds there: "+
			"a revoked token keeps working on this service until its entry expires", dur(f.CacheTime))
		if !f.CacheUntil.IsZero() {
			d += " (here until about " + clock(f.CacheUntil) + ")"
		}
		d += ". If revocation must take effect at once, lower token_cache_time in [keystone_authtoken] (each miss then costs a validation)."
	case f.Validated:
		s += ", keystone itself validating it"
		d = "keystone said the token was valid after revoking it: the validating keystone did not see the revocation " +
			"(another keystone node with its own database, replication lag, or cached revocation events: [revoke] caching)."
	default:
		d = "The service accepted the token without a validation in the capture: it may cache tokens in memory (no memcached), or its cache traffic was not captured."
	}
	return s, d
}

func (f tokenUseFacts) expired(l lang) (string, string) {
	if l == langZH {
		if f.Accepted == 0 {
			s := fmt.Sprintf("token %s 过期 (%s) 后又被使用了 %d 次, 被拒绝", f.Token, clock(f.At), f.Uses)
			d := "客户端在 token 有效期 ([token] expiration, 默认 1 小时) 之后还在用它: 长时间运行的任务必须重新认证; keystoneauth 会话会自动这样做。"
			return s, d
		}
		s := fmt.Sprintf("过期的 token %s 仍被接受: 过期 (%s) %s 之后 %s 仍返回 %d", f.Token, clock(f.At), dur(f.Delay), f.Service, f.Status)
		d := "keystonemiddleware 会检查缓存中 token 的过期时间, 所以接受过期 token 意味着服务和 keystone 的时钟不一致 (检查 NTP/chrony), 或者验证时允许了过期 token (allow_expired, 配合服务 token 用于长时间操作)。"
		return s, d
	}
	if f.Accepted == 0 {
		s := fmt.Sprintf("token %s used %s after it expired (%s) and refused", f.Token, times(f.Uses), clock(f.At))
		d := "A client kept using a token past its lifetime ([token] expiration, 1 h by default): long-running jobs must re-authenticate; keystoneauth sessions do so by themselves."
		return s, d
	}
	s := fmt.Sprintf("expired token %s still accepted: %s answered %d %s after it expired (%s)", f.Token, f.Service, f.Status, dur(f.Delay), clock(f.At))
	d := "keystonemiddleware checks the expiry of the tokens it finds in its cache, so an accepted expired token means the clocks of the service and keystone differ (check NTP/chrony), " +
		"or the validation allowed expired tokens (allow_expired, used with service tokens for long operations)."
	return s, d
}
