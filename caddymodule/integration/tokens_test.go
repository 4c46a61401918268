package integration

import (
	"hash/crc32"
)

// forgeValid makes a well-formed token (right prefix, valid checksum) that
// was never issued, as a guesser would.
func forgeValid(prefix string) string {
	const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	body := prefix + "ForgedForgedForgedForgedForged"
	sum := uint64(crc32.ChecksumIEEE([]byte(body)))
	var check [6]byte
	for i := 5; i >= 0; i-- {
		check[i] = base62[sum%62]
		sum /= 62
	}
	return body + string(check[:])
}
