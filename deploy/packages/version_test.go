package packages

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionFromGit runs scripts/deb-version.sh in repositories at each
// point of a project's life and checks the version apt would see: valid
// for dpkg, as expected, and later for a later commit.
func TestVersionFromGit(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("dpkg is not installed: the versions are Debian's")
	}
	script, err := filepath.Abs(filepath.Join(repoRoot, "scripts/deb-version.sh"))
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		commit bool   // a new commit
		tag    string // then a tag on it
		dirty  bool   // then an uncommitted change
	}
	cases := []struct {
		name  string
		steps []step
		// want is the version, with HASH for the abbreviated commit.
		want string
	}{
		{"no tag", []step{{commit: true}}, "0.0+git1.gHASH"},
		{"no tag, later", []step{{commit: true}, {commit: true}, {commit: true}}, "0.0+git3.gHASH"},
		{"no tag, changed", []step{{commit: true, dirty: true}}, "0.0+git1.gHASH+dirty"},
		{"on a tag", []step{{commit: true, tag: "v1.2.3"}}, "1.2.3"},
		{"on a tag without v", []step{{commit: true, tag: "2.0"}}, "2.0"},
		{"past a tag", []step{{commit: true, tag: "v1.2.3"}, {commit: true}, {commit: true}}, "1.2.3+2.gHASH"},
		{"past a tag, changed", []step{{commit: true, tag: "v1.2.3"}, {commit: true, dirty: true}}, "1.2.3+1.gHASH+dirty"},
		{"a pre-release tag", []step{{commit: true, tag: "v1.3.0-rc1"}}, "1.3.0~rc1"},
		{"past a pre-release tag", []step{{commit: true, tag: "v1.3.0-rc1"}, {commit: true}}, "1.3.0~rc1+1.gHASH"},
		{"a release after its pre-release", []step{{commit: true, tag: "v1.3.0-rc1"}, {commit: true, tag: "v1.3.0"}}, "1.3.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			repo := t.TempDir()
			git(t, repo, "init", "-q")
			var previous string
			for i, s := range c.steps {
				if s.commit {
					writeFile(t, filepath.Join(repo, "file"), strings.Repeat("x", i+1))
					git(t, repo, "add", "file")
					git(t, repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "step")
				}
				if s.tag != "" {
					git(t, repo, "tag", s.tag)
				}
				if s.dirty {
					writeFile(t, filepath.Join(repo, "file"), "changed")
				}
				got := version(t, script, repo)
				if err := exec.Command("dpkg", "--validate-version", got).Run(); err != nil {
					t.Errorf("step %d: %q is not a Debian version", i, got)
				}
				if previous != "" && s.commit && exec.Command("dpkg", "--compare-versions", got, "gt", previous).Run() != nil {
					t.Errorf("step %d: %q does not sort after the previous commit's %q", i, got, previous)
				}
				previous = got
			}
			hash := strings.TrimSpace(git(t, repo, "rev-parse", "--short", "HEAD"))
			if want := strings.ReplaceAll(c.want, "HASH", hash); previous != want {
				t.Errorf("version is %q, want %q", previous, want)
			}
		})
	}
}

func version(t *testing.T, script, repo string) string {
	cmd := exec.Command("bash", script)
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	return strings.TrimSpace(string(out))
}

func git(t *testing.T, repo string, args ...string) string {
	cmd := exec.Command("git", args...)
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeFile(t *testing.T, path, text string) {
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWrongVersionIsRefused checks that make deb refuses a VERSION dpkg
// would not take, saying so, before it builds anything.
func TestWrongVersionIsRefused(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("dpkg is not installed: the versions are Debian's")
	}
	for _, v := range []string{"v1.2.3", "1.2.3 beta", "1.2_3"} {
		out := t.TempDir()
		cmd := exec.Command("bash", filepath.Join(repoRoot, "scripts/deb.sh"))
		cmd.Env = append(os.Environ(), "OUT="+out, "VERSION="+v)
		msg, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("VERSION=%q was taken", v)
		}
		if !strings.Contains(string(msg), "is not a Debian version") {
			t.Errorf("VERSION=%q: the refusal does not say why: %s", v, msg)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("VERSION=%q: something was built before the refusal: %v", v, entries)
		}
	}
}
