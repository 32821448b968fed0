package main

import (
	"github.com/authflow/authflow/decode"
	"github.com/authflow/authflow/decode/memcached"
	"github.com/authflow/authflow/decode/mysql"
)

func defaultDecoders() map[decode.Protocol]decode.HandlerFunc {
	return map[decode.Protocol]decode.HandlerFunc{
		decode.Memcached: memcached.New,
		decode.MySQL:     mysql.New,
	}
}
