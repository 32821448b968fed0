package main

import (
	"github.com/authflow/authflow/decode"
)

func defaultDecoders() map[decode.Protocol]decode.HandlerFunc {
	return map[decode.Protocol]decode.HandlerFunc{}
}
