package main

import (
	"context"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		want    []string // in the report, or in the error
		wantErr bool
	}{
		{"one day", []string{"--config", "../../examples/offices/starachowice.toml", "--seed", "4"},
			[]string{"Centrum Usług Społecznych w Starachowicach", "1 day, 2026-11-23, seed 4", "engine forecast", "usual formula", "D documents"}, false},
		{"office by id over two days", []string{"--config", "../../examples/offices/czestochowa.toml", "--office", "um-czestochowa", "--days", "2", "--start", "2026-12-24"},
			[]string{"2 days, 2026-12-28 to 2026-12-29"}, false},
		{"no config", nil, []string{"--config is required"}, true},
		{"missing file", []string{"--config", "nowhere.toml"}, []string{"nowhere.toml"}, true},
		{"unknown office", []string{"--config", "../../examples/offices/czestochowa.toml", "--office", "krakow"},
			[]string{`no office "krakow"`, "um-czestochowa"}, true},
		{"bad date", []string{"--config", "../../examples/offices/czestochowa.toml", "--start", "23.11.2026"}, []string{`--start "23.11.2026"`}, true},
		{"bad load", []string{"--config", "../../examples/offices/czestochowa.toml", "--load", "0"}, []string{"--load 0"}, true},
		{"too many days", []string{"--config", "../../examples/offices/czestochowa.toml", "--days", "1000"}, []string{"days 1000"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut strings.Builder
			err := run(context.Background(), c.args, &out, &errOut)
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want error %v", err, c.wantErr)
			}
			got := out.String()
			if err != nil {
				got = err.Error()
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
		})
	}
}
