package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestWrongConfigStopsStartUp(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "offices.toml")
	data, err := os.ReadFile("../../examples/offices/czestochowa.toml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), `prefix = "K"`, `prefix = "P"`, 1)
	if err := os.WriteFile(cfg, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--config", cfg, "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	line := 0
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, `prefix = "K"`) {
			line = i + 1
		}
	}
	want := cfg + ":" + strconv.Itoa(line) + ": office[0].service[1].prefix: \"P\" is already used by service[0]: ticket numbers would clash"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr:\n%s\nwant it to contain:\n%s", stderr.String(), want)
	}
}

func TestTokenCommand(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		code int
		says string
	}{
		{[]string{"token", "--data", dir, "--office", "x", "--role", "counter"}, 1, "--role counter needs --counter N"},
		{[]string{"token", "--data", dir, "--office", "x", "--role", "janitor"}, 1, `--role "janitor"`},
		{[]string{"token", "--data", dir, "--role", "hall"}, 1, "--office is required"},
		{[]string{"token", "--data", dir, "--office", "*", "--role", "hall"}, 1, `only for --role admin`},
		{[]string{"token", "--data", dir, "--office", "x", "--role", "counter", "--counter", "3"}, 0, "counter 3 of office x"},
		{[]string{"token", "--data", dir, "--role", "metrics", "--label", "prometheus"}, 0, "metrics of office *"},
		{[]string{"token", "--data", dir, "--office", "*", "--role", "metrics"}, 0, "metrics of office *"},
		{[]string{"token", "--data", dir, "--office", "x", "--role", "metrics"}, 1, "--role metrics reads the whole server's metrics"},
		{[]string{"revoke", "--data", dir, "nosuch"}, 1, `no token with id "nosuch"`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.says) {
			t.Errorf("%v: exit %d, stderr %q; want %d saying %q", tt.args, code, stderr.String(), tt.code, tt.says)
		}
		if code == 0 && !strings.HasPrefix(stdout.String(), "nmk_") {
			t.Errorf("%v printed %q, want the secret", tt.args, stdout.String())
		}
	}
	var stdout bytes.Buffer
	run(context.Background(), []string{"tokens", "--data", dir}, &stdout, &bytes.Buffer{})
	if !strings.Contains(stdout.String(), "counter") || strings.Contains(stdout.String(), "nmk_") {
		t.Errorf("tokens lists %q: want the token, not its secret", stdout.String())
	}
}
