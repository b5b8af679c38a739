package githubtest

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// RepoOptions describe a repository to create.
type RepoOptions struct {
	Private bool
	// DefaultBranch defaults to "main".
	DefaultBranch string
	// Files of the initial commit; a README.md when empty.
	Files map[string]string
}

// CreateRepo creates "owner/name" with one commit on its default branch.
// The owner is created as an organization unless a user of that login exists.
func (s *Server) CreateRepo(fullName string, opts RepoOptions) {
	if err := s.createRepo(fullName, opts); err != nil {
		s.fatalf("CreateRepo %s: %v", fullName, err)
	}
}

func (s *Server) createRepo(fullName string, opts RepoOptions) error {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("want owner/name, got %q", fullName)
	}
	if opts.DefaultBranch == "" {
		opts.DefaultBranch = "main"
	}
	if len(opts.Files) == 0 {
		opts.Files = map[string]string{"README.md": "# " + name + "\n"}
	}
	s.mu.Lock()
	if _, exists := s.repos[fullName]; exists {
		s.mu.Unlock()
		return fmt.Errorf("repository exists")
	}
	now := time.Now().UTC()
	r := &repo{
		id:            s.id(),
		owner:         s.userLocked(owner, "Organization"),
		name:          name,
		private:       opts.Private,
		defaultBranch: opts.DefaultBranch,
		gitDir:        filepath.Join(s.dir, owner, name+".git"),
		createdAt:     now,
		pushedAt:      now,
		pulls:         map[int]*pullRequest{},
		issues:        map[int]*issue{},
		permissions:   map[string]string{},
		protection:    map[string]*BranchProtection{},
	}
	s.repos[fullName] = r
	s.mu.Unlock()

	g, err := initBare(r.gitDir, opts.DefaultBranch)
	if err != nil {
		return err
	}
	sha, err := g.commit("", opts.Files, nil, "Initial commit", signature{Name: owner, Email: owner + "@users.noreply.github.com", When: now})
	if err != nil {
		return err
	}
	return g.updateRef("refs/heads/"+opts.DefaultBranch, sha, "")
}

// Fork creates owner/name as a fork of parent (same commits and branches),
// for pull requests from forks.
func (s *Server) Fork(parent, owner string) string {
	s.mu.Lock()
	p, ok := s.repos[parent]
	s.mu.Unlock()
	if !ok {
		s.fatalf("Fork %s: no such repository", parent)
		return ""
	}
	full := owner + "/" + p.name
	s.mu.Lock()
	f := &repo{
		id:            s.id(),
		owner:         s.userLocked(owner, "User"),
		name:          p.name,
		private:       p.private,
		defaultBranch: p.defaultBranch,
		gitDir:        filepath.Join(s.dir, owner, p.name+".git"),
		createdAt:     time.Now().UTC(),
		pushedAt:      time.Now().UTC(),
		pulls:         map[int]*pullRequest{},
		issues:        map[int]*issue{},
		permissions:   map[string]string{},
		protection:    map[string]*BranchProtection{},
		fork:          p,
	}
	s.repos[full] = f
	s.mu.Unlock()
	if _, err := (gitRepo{}).run(nil, "clone", "--bare", "--quiet", p.gitDir, f.gitDir); err != nil {
		s.fatalf("Fork %s: %v", parent, err)
	}
	return full
}

// AddUser makes sure a person with this login exists and returns it.
func (s *Server) AddUser(login string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.userLocked(login, "User")
}

// userLocked returns the account login, creating it with type typ.
func (s *Server) userLocked(login, typ string) *User {
	if u, ok := s.users[login]; ok {
		return u
	}
	u := &User{ID: s.id(), Login: login, Type: typ}
	s.users[login] = u
	return u
}

// SetPermission gives login a permission on repo: admin, maintain, write,
// triage, read, or none.
func (s *Server) SetPermission(repo, login, permission string) {
	switch permission {
	case "admin", "maintain", "write", "triage", "read", "none":
	default:
		s.fatalf("SetPermission: unknown permission %q", permission)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[repo]
	if !ok {
		s.fatalf("SetPermission: no repository %s", repo)
		return
	}
	s.userLocked(login, "User")
	r.permissions[login] = permission
}

// AddTeamMember puts login on org's team (slug) with role member or maintainer.
func (s *Server) AddTeamMember(org, team, login, role string) {
	if role == "" {
		role = "member"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLocked(login, "User")
	key := org + "/" + team
	if s.teams[key] == nil {
		s.teams[key] = map[string]string{}
	}
	s.teams[key][login] = role
}

// Protect sets branch protection on repo's branch.
func (s *Server) Protect(repo, branch string, p BranchProtection) {
	s.mu.Lock()
	r, ok := s.repos[repo]
	if ok {
		cp := p
		cp.RequiredContexts = append([]string(nil), p.RequiredContexts...)
		r.protection[branch] = &cp
	}
	s.mu.Unlock()
	if !ok {
		s.fatalf("Protect: no repository %s", repo)
		return
	}
	s.refreshPulls(repo)
	s.AdvanceMergeQueue(repo)
}

// CreateInstallation installs the app on account, for the given
// repositories ("owner/name"; none = all of the account's), and announces
// it with an installation webhook. It returns the installation id.
func (s *Server) CreateInstallation(account string, repos ...string) int64 {
	s.mu.Lock()
	inst := &Installation{
		ID:          s.id(),
		Account:     s.userLocked(account, "Organization"),
		Repos:       append([]string(nil), repos...),
		CreatedAt:   time.Now().UTC(),
		permissions: s.newPermissions(),
	}
	s.installations[inst.ID] = inst
	s.mu.Unlock()
	s.emitInstallation(inst)
	return inst.ID
}

// installationFor returns the installation covering repo, or nil. Callers hold s.mu.
func (s *Server) installationFor(r *repo) *Installation {
	full := r.owner.Login + "/" + r.name
	for _, inst := range s.installations {
		if inst.Account.Login != r.owner.Login {
			continue
		}
		if len(inst.Repos) == 0 {
			return inst
		}
		for _, name := range inst.Repos {
			if name == full {
				return inst
			}
		}
	}
	return nil
}

func (r *repo) fullName() string { return r.owner.Login + "/" + r.name }
func (r *repo) git() gitRepo     { return gitRepo{dir: r.gitDir} }
