package config

import "testing"

func TestValidateScope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s  string
		ok bool
	}{
		{"read", true},
		{"task_history", true},
		{"papers:write", true},
		{"https://api.example.com/read", true},
		{"!#$%&'()*+-./:;<=>?@[]^_`{|}~", true},
		{"", false},
		{"two words", false},
		{"tab\there", false},
		{`say"hi"`, false},
		{`back\slash`, false},
		{"a,b", false},
		{"café", false},
		{"del\x7f", false},
		{string(make([]byte, MaxScopeLen+1)), false},
	} {
		if err := ValidateScope(tc.s); (err == nil) != tc.ok {
			t.Errorf("ValidateScope(%q) = %v, want ok %v", tc.s, err, tc.ok)
		}
	}
}
