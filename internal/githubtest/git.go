package githubtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// gitRepo runs git against one bare repository. The emulator keeps real git
// repositories so that merges, diffs and tarballs are what git makes of
// them, not an imitation.
type gitRepo struct{ dir string }

// signature is who made a commit.
type signature struct {
	Name, Email string
	When        time.Time
}

func initBare(dir, defaultBranch string) (gitRepo, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return gitRepo{}, err
	}
	g := gitRepo{dir: dir}
	if _, err := g.run(nil, "init", "--bare", "--quiet", "--initial-branch="+defaultBranch, dir); err != nil {
		return gitRepo{}, err
	}
	return g, nil
}

func (g gitRepo) run(stdin []byte, args ...string) (string, error) {
	return g.runEnv(nil, stdin, args...)
}

func (g gitRepo) runEnv(env []string, stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Env = append(os.Environ(),
		"GIT_DIR="+g.dir,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
	)
	cmd.Env = append(cmd.Env, env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), &gitError{args: args, err: err, stderr: strings.TrimSpace(errb.String()), stdout: out.String()}
	}
	return out.String(), nil
}

type gitError struct {
	args           []string
	err            error
	stderr, stdout string
}

func (e *gitError) Error() string {
	return fmt.Sprintf("git %s: %v: %s", strings.Join(e.args, " "), e.err, e.stderr)
}

func (e *gitError) exitCode() int {
	var ee *exec.ExitError
	if errors.As(e.err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// resolve returns the commit a ref or sha names, or "" if it names none.
func (g gitRepo) resolve(ref string) string {
	out, err := g.run(nil, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

func (g gitRepo) branchHead(branch string) string { return g.resolve("refs/heads/" + branch) }

// commit writes files (and removes paths in remove) on top of parent ("" for
// a root commit) and returns the new commit; no ref moves.
func (g gitRepo) commit(parent string, files map[string]string, remove []string, msg string, who signature) (string, error) {
	index := filepath.Join(g.dir, fmt.Sprintf("index-%d", time.Now().UnixNano()))
	defer os.Remove(index)
	env := []string{"GIT_INDEX_FILE=" + index}
	if parent != "" {
		if _, err := g.runEnv(env, nil, "read-tree", parent); err != nil {
			return "", err
		}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		blob, err := g.run([]byte(files[p]), "hash-object", "-w", "--stdin")
		if err != nil {
			return "", err
		}
		if _, err := g.runEnv(env, nil, "update-index", "--add", "--cacheinfo", "100644,"+strings.TrimSpace(blob)+","+p); err != nil {
			return "", err
		}
	}
	// --index-info with mode 0 removes a path; --force-remove would need a
	// work tree, which a bare repository has none of.
	for _, p := range remove {
		if _, err := g.runEnv(env, []byte("0 "+strings.Repeat("0", 40)+"\t"+p+"\n"), "update-index", "--index-info"); err != nil {
			return "", err
		}
	}
	tree, err := g.runEnv(env, nil, "write-tree")
	if err != nil {
		return "", err
	}
	var parents []string
	if parent != "" {
		parents = []string{parent}
	}
	return g.commitTree(strings.TrimSpace(tree), parents, msg, who)
}

func (g gitRepo) commitTree(tree string, parents []string, msg string, who signature) (string, error) {
	args := []string{"commit-tree", tree}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	date := strconv.FormatInt(who.When.Unix(), 10) + " +0000"
	env := []string{
		"GIT_AUTHOR_NAME=" + who.Name, "GIT_AUTHOR_EMAIL=" + who.Email, "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=" + who.Name, "GIT_COMMITTER_EMAIL=" + who.Email, "GIT_COMMITTER_DATE=" + date,
	}
	out, err := g.runEnv(env, []byte(msg), args...)
	return strings.TrimSpace(out), err
}

// updateRef moves ref to sha, only if it still points at old ("" = must not exist).
func (g gitRepo) updateRef(ref, sha, old string) error {
	if old == "" {
		old = strings.Repeat("0", 40)
	}
	_, err := g.run(nil, "update-ref", ref, sha, old)
	return err
}

// testMerge merges head into base without touching any ref, as GitHub's
// test merge does. conflict reports whether git could not merge cleanly.
func (g gitRepo) testMerge(base, head string) (tree string, conflict bool, err error) {
	out, err := g.run(nil, "merge-tree", "--write-tree", "--no-messages", base, head)
	if err != nil {
		var ge *gitError
		if errors.As(err, &ge) && ge.exitCode() == 1 {
			return firstLine(ge.stdout), true, nil
		}
		return "", false, err
	}
	return firstLine(out), false, nil
}

func (g gitRepo) treeOf(commit string) (string, error) {
	out, err := g.run(nil, "rev-parse", commit+"^{tree}")
	return strings.TrimSpace(out), err
}

// isAncestor reports whether a is reachable from b.
func (g gitRepo) isAncestor(a, b string) bool {
	_, err := g.run(nil, "merge-base", "--is-ancestor", a, b)
	return err == nil
}

func (g gitRepo) mergeBase(a, b string) (string, error) {
	out, err := g.run(nil, "merge-base", a, b)
	return strings.TrimSpace(out), err
}

// fileChange is one file of a diff, as the pulls files endpoint lists it.
type fileChange struct {
	status              string // added | removed | modified | renamed
	filename, previous  string
	additions, deletion int
	patch               string
	blob                string
}

// diff lists what changed from base to head, file by file, with patches.
func (g gitRepo) diff(base, head string) ([]fileChange, error) {
	return g.diffFiles(base, head, true)
}

// diffFiles lists what changed; patches (one git call per file) only when asked.
func (g gitRepo) diffFiles(base, head string, withPatch bool) ([]fileChange, error) {
	out, err := g.run(nil, "diff", "--no-color", "--numstat", "-z", "--no-renames", base, head)
	if err != nil {
		return nil, err
	}
	var changes []fileChange
	for _, rec := range strings.Split(strings.TrimRight(out, "\x00"), "\x00") {
		if rec == "" {
			continue
		}
		f := strings.SplitN(rec, "\t", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("git diff --numstat: unexpected %q", rec)
		}
		add, _ := strconv.Atoi(f[0])
		del, _ := strconv.Atoi(f[1])
		changes = append(changes, fileChange{filename: f[2], additions: add, deletion: del})
	}
	for i := range changes {
		c := &changes[i]
		inBase := g.blobAt(base, c.filename) != ""
		c.blob = g.blobAt(head, c.filename)
		switch {
		case !inBase:
			c.status = "added"
		case c.blob == "":
			c.status = "removed"
			c.blob = g.blobAt(base, c.filename)
		default:
			c.status = "modified"
		}
		if !withPatch {
			continue
		}
		patch, err := g.run(nil, "diff", "--no-color", "--no-renames", base, head, "--", c.filename)
		if err != nil {
			return nil, err
		}
		// GitHub's patch starts at the first hunk header.
		if i := strings.Index(patch, "\n@@"); i >= 0 {
			patch = patch[i+1:]
		}
		c.patch = strings.TrimSuffix(patch, "\n")
	}
	return changes, nil
}

// blobAt returns the blob id of path at commit, or "".
func (g gitRepo) blobAt(commit, path string) string {
	out, err := g.run(nil, "rev-parse", "--verify", "--quiet", commit+":"+path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// treeEntry is one entry of a directory listing.
type treeEntry struct {
	mode, kind, sha, path string
	size                  int64
}

// ls lists a directory (path "" = root) at commit.
func (g gitRepo) ls(commit, path string) ([]treeEntry, error) {
	spec := commit + "^{tree}"
	if path != "" {
		spec = commit + ":" + path
	}
	out, err := g.run(nil, "ls-tree", "-z", "--long", spec)
	if err != nil {
		return nil, err
	}
	var entries []treeEntry
	for _, rec := range strings.Split(strings.TrimRight(out, "\x00"), "\x00") {
		if rec == "" {
			continue
		}
		meta, name, _ := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		size, _ := strconv.ParseInt(f[3], 10, 64)
		p := name
		if path != "" {
			p = path + "/" + name
		}
		entries = append(entries, treeEntry{mode: f[0], kind: f[1], sha: f[2], path: p, size: size})
	}
	return entries, nil
}

// objectType returns "blob", "tree" or "" for path at commit.
func (g gitRepo) objectType(commit, path string) string {
	out, err := g.run(nil, "cat-file", "-t", commit+":"+path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

func (g gitRepo) readBlob(sha string) ([]byte, error) {
	out, err := g.run(nil, "cat-file", "blob", sha)
	return []byte(out), err
}

// archive returns a gzipped tarball of commit with every path under prefix/.
func (g gitRepo) archive(commit, prefix string) ([]byte, error) {
	out, err := g.run(nil, "archive", "--format=tar.gz", "--prefix="+prefix+"/", commit)
	return []byte(out), err
}

// commitInfo is what GitHub shows about a commit.
type commitInfo struct {
	sha, tree, message string
	parents            []string
	author, committer  signature
}

func (g gitRepo) commitInfo(sha string) (commitInfo, error) {
	out, err := g.run(nil, "show", "-s", "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B", sha)
	if err != nil {
		return commitInfo{}, err
	}
	f := strings.SplitN(out, "\x00", 10)
	if len(f) != 10 {
		return commitInfo{}, fmt.Errorf("git show %s: unexpected output", sha)
	}
	at, _ := strconv.ParseInt(f[5], 10, 64)
	ct, _ := strconv.ParseInt(f[8], 10, 64)
	return commitInfo{
		sha: f[0], tree: f[1], parents: strings.Fields(f[2]),
		author:    signature{Name: f[3], Email: f[4], When: time.Unix(at, 0).UTC()},
		committer: signature{Name: f[6], Email: f[7], When: time.Unix(ct, 0).UTC()},
		message:   strings.TrimRight(f[9], "\n"),
	}, nil
}

// commitsBetween lists commits reachable from head but not base, oldest first.
func (g gitRepo) commitsBetween(base, head string) ([]string, error) {
	rng := head
	if base != "" {
		rng = base + ".." + head
	}
	out, err := g.run(nil, "rev-list", "--reverse", rng)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}
