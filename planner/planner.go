package planner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/internal/panics"
	"github.com/tugboatops/tugboat/kube"
)

// Defaults of a Planner's tunables.
const (
	// DefaultConcurrency is the number of dry-runs in flight per plan.
	// BenchmarkPlan1000's sweep on a 2-core machine (1,000 objects, medians
	// of 5): 1 → 3.1 s, 4 → 1.9 s, 8 → 1.6 s, 16 → 1.48 s, 32 → 1.44 s,
	// 64 → 1.57 s. Past a handful in flight the API server's CPU is the
	// limit; 32 keeps it busy while diffs are computed.
	DefaultConcurrency = 32
	// DefaultPingTimeout bounds the wait for a cluster that does not answer.
	DefaultPingTimeout = 5 * time.Second
)

// ManifestRenderer renders one environment of a repository. *Renderer is
// the production implementation (a sandboxed child process).
type ManifestRenderer interface {
	Render(ctx context.Context, repo fs.FS, env config.Environment) ([]Object, []Problem, error)
}

// ClusterSource gives the client bundle of a named cluster; *kube.Registry
// implements it.
type ClusterSource interface {
	Cluster(name string) (*kube.Cluster, error)
}

// Planner makes plans. It holds no per-plan state and is safe for
// concurrent use.
type Planner struct {
	Clusters ClusterSource
	// DigestKey keys the HMAC of Secret values in the plan digest.
	DigestKey []byte
	Renderer  ManifestRenderer
	// Concurrency bounds the dry-runs in flight; 0 means DefaultConcurrency.
	Concurrency int
	// PingTimeout bounds the reachability check; 0 means DefaultPingTimeout.
	PingTimeout time.Duration

	// listThreshold overrides when live objects are LISTed rather than
	// read one by one (for benchmarks); 0 means the package default.
	listThreshold int
}

// Plan renders in.Repo (and in.BaseRepo) for in.Env and diffs it against
// the environment's cluster. Problems with the repository or the cluster
// are in the Plan; the error is for failures of the planner itself. It logs
// to zerolog.Ctx(ctx), whose logger the caller has given the request's
// fields (repository, PR, environment, cluster).
func (p *Planner) Plan(ctx context.Context, in Input) (*Plan, error) {
	plan, _, _, err := p.plan(ctx, in)
	return plan, err
}

// plan is Plan, also returning the objects its dry-runs sent for the
// plan's creates, updates and adopts (see PlanForApply), and the Redactor
// that knows the values of every Secret the plan touched (rendered, and
// live as read from the cluster).
func (p *Planner) plan(ctx context.Context, in Input) (*Plan, map[ObjectRef]*unstructured.Unstructured, *Redactor, error) {
	if len(p.DigestKey) == 0 {
		return nil, nil, nil, errors.New("plan: no digest key configured")
	}
	start := time.Now()
	plan := &Plan{Env: in.Env.Name, Cluster: in.Env.Cluster, Commit: in.Commit}
	red := newRedactor()

	cluster, err := p.Clusters.Cluster(in.Env.Cluster)
	if err != nil {
		plan.Problems = append(plan.Problems, Problem{Message: err.Error()})
		return p.finish(plan, red, nil), nil, red, nil
	}

	r, err := p.render(ctx, cluster, in)
	rendered := time.Now()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("plan %s: %w", in.Env.Name, err)
	}
	for _, pr := range r.problems {
		if pr.Note {
			// Shown with the plan, but nothing in it is wrong.
			plan.Warnings = append(plan.Warnings, pr)
		} else {
			plan.Problems = append(plan.Problems, pr)
		}
	}
	var secrets []secretValues
	for _, o := range r.head {
		if isSecret(o.Obj) {
			ref := refOf(o.Obj)
			red.addSecret(ref, o.Obj.Object)
			// The digest covers the values as sent: ignored keys are not.
			sent := PrepareForApply(o.Obj, nil, ignorePathsFor(in.Env.Ignore, ref))
			secrets = append(secrets, secretValues{ref: ref, data: secretData(sent.Object)})
		}
	}
	if r.pingErr != nil {
		plan.Problems = append(plan.Problems, Problem{Message: unreachableMessage(in.Env.Cluster, r.pingErr), Unreachable: true})
		return p.finish(plan, red, secrets), nil, red, nil
	}

	policies, policyProbs := compilePolicies(in.Env.Policies)
	plan.Problems = append(plan.Problems, policyProbs...)
	sent := map[ObjectRef]*unstructured.Unstructured{}
	d := &diffRun{red: red, sent: sent, policies: policies}
	changes, problems, unreachable := p.diff(ctx, cluster, in, r, d)
	plan.Warnings = append(plan.Warnings, d.warnings...)
	if ctx.Err() != nil {
		return nil, nil, nil, fmt.Errorf("plan %s: %w", in.Env.Name, ctx.Err())
	}
	plan.Changes = changes
	plan.Problems = append(plan.Problems, problems...)
	if unreachable != nil {
		plan.Problems = append(plan.Problems, Problem{Message: unreachableMessage(in.Env.Cluster, unreachable), Unreachable: true})
	}
	p.finish(plan, red, secrets)
	c := plan.Counts()
	zerolog.Ctx(ctx).Info().Int("objects", len(r.head)).Int("create", c.Create).Int("update", c.Update).
		Int("delete", c.Delete).Int("unchanged", c.Unchanged).Int("problems", len(plan.Problems)).
		Dur("render", r.renderTook).Dur("validate", rendered.Sub(start)-r.renderTook).
		Dur("dryrun", time.Since(rendered)).Dur("took", time.Since(start)).Msg("planned")
	return plan, sent, red, nil
}

func unreachableMessage(cluster string, err error) string {
	return fmt.Sprintf("cluster %s is unreachable, nothing was planned: %v", cluster, err)
}

// renders is the validated head render, the base index and whether the
// cluster answered.
type renders struct {
	head     []Object
	problems []Problem
	base     baseIndex
	pingErr  error
	// renderTook is the render's wall time (head and base in parallel).
	renderTook time.Duration
}

// render renders head and base and pings the cluster, all at once.
func (p *Planner) render(ctx context.Context, cluster *kube.Cluster, in Input) (*renders, error) {
	var (
		wg               sync.WaitGroup
		head, base       []Object
		headProbs        []Problem
		headErr, baseErr error
		pingErr          error
	)
	renderer := in.Renderer
	if renderer == nil {
		renderer = p.Renderer
	}
	start := time.Now()
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer panics.Recover(ctx, &headErr)
		head, headProbs, headErr = renderer.Render(ctx, in.Repo, in.Env)
	}()
	go func() {
		defer wg.Done()
		defer panics.Recover(ctx, &pingErr)
		timeout := p.PingTimeout
		if timeout <= 0 {
			timeout = DefaultPingTimeout
		}
		pingErr = cluster.Ping(ctx, timeout)
	}()
	if in.BaseRepo != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer panics.Recover(ctx, &baseErr)
			// Base problems are the base branch's business, not this PR's.
			base, _, baseErr = renderer.Render(ctx, in.BaseRepo, in.Env)
		}()
	}
	wg.Wait()
	if headErr != nil {
		return nil, fmt.Errorf("render: %w", headErr)
	}
	// A crashed base render or ping is a bug in tugboat, not an answer:
	// planning on would show every change as the PR's, or the cluster as
	// unreachable.
	if panics.Is(baseErr) {
		return nil, fmt.Errorf("render base: %w", baseErr)
	}
	if panics.Is(pingErr) {
		return nil, fmt.Errorf("ping cluster %s: %w", in.Env.Cluster, pingErr)
	}
	r := &renders{problems: headProbs, pingErr: pingErr, renderTook: time.Since(start)}
	if pingErr != nil {
		r.head = head
		return r, nil
	}
	var valProbs []Problem
	r.head, valProbs = Validate(head, in.Env, cluster)
	r.problems = append(r.problems, valProbs...)
	if in.BaseRepo != nil && baseErr == nil {
		validBase, _ := Validate(base, in.Env, cluster)
		r.base = newBaseIndex(validBase)
	}
	return r, nil
}

// diffRun is what one diff uses and collects besides changes and problems.
type diffRun struct {
	red *Redactor
	// sent receives the objects the dry-runs sent for creates, adopts and
	// updates.
	sent     map[ObjectRef]*unstructured.Unstructured
	policies *policySet
	// warnings are the violations of warn policies.
	warnings []Problem
}

// diff dry-runs every rendered object (namespaces and CRDs first, since
// whether they exist decides how the rest can be planned), checks the
// policies on each, and plans the deletes.
func (p *Planner) diff(ctx context.Context, c *kube.Cluster, in Input, r *renders, d *diffRun) ([]Change, []Problem, error) {
	red, sent := d.red, d.sent
	set := kube.ApplySet{Repo: in.RepoName, Env: in.Env.Name}
	concurrency := p.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	e := &engine{cluster: c, labels: set.MemberLabels(), concurrency: concurrency, redact: red, owners: &owners{c: c}, listThreshold: p.listThreshold, policies: d.policies}

	crdKinds := definedKinds(r.head)
	var first, rest []*target
	var problems []Problem
	var unreachable error
	rendered := make(map[objectKey]bool, len(r.head))
	for _, o := range r.head {
		t := &target{obj: o, ref: refOf(o.Obj)}
		rendered[keyOf(t.ref)] = true
		t.ignore = ignorePathsFor(in.Env.Ignore, t.ref)
		if len(t.ignore) > 0 {
			_, t.leftOut = prepare(o.Obj, nil, t.ignore)
		}
		gvk := o.Obj.GroupVersionKind()
		m, err := c.RESTMapping(gvk.GroupKind(), gvk.Version)
		switch {
		case err == nil:
			t.mapping = m
		case meta.IsNoMatchError(err) && crdKinds[gvk.GroupKind()]:
			t.noDryRun = "its CustomResourceDefinition is created by this plan"
		case meta.IsNoMatchError(err):
			problems = append(problems, Problem{Source: o.Source, Object: t.ref.String(),
				Message: fmt.Sprintf("kind %s (apiVersion %s) is not served by cluster %s", gvk.Kind, o.Obj.GetAPIVersion(), c.Name)})
			continue
		case isUnreachable(err):
			unreachable = err
			continue
		default:
			problems = append(problems, Problem{Source: o.Source, Object: t.ref.String(), Message: err.Error()})
			continue
		}
		if t.ref.IsNamespace() || t.ref.IsCRD() {
			first = append(first, t)
		} else {
			rest = append(rest, t)
		}
	}
	if unreachable != nil {
		return nil, problems, unreachable
	}

	var changes []Change
	collect := func(ts []*target, outs []outcome) {
		for i, o := range outs {
			switch {
			case o.unreachable != nil:
				unreachable = o.unreachable
			case o.problem != nil:
				problems = append(problems, *o.problem)
			default:
				problems = append(problems, o.violations...)
				d.warnings = append(d.warnings, o.warnings...)
				ch := o.change
				ch.FromPR = r.base.fromPR(keyOf(ch.Ref), ts[i].obj.Obj.Object)
				changes = append(changes, ch)
				if (ch.Action == ActionCreate || ch.Action == ActionUpdate || ch.Action == ActionAdopt) && o.sent != nil {
					sent[ch.Ref] = o.sent
				}
			}
		}
	}
	outs := e.run(ctx, first)
	collect(first, outs)
	created := map[string]bool{}
	for i, o := range outs {
		if first[i].ref.IsNamespace() && o.change.Action == ActionCreate {
			created[first[i].ref.Name] = true
		}
	}
	for _, t := range rest {
		if t.noDryRun == "" && created[t.ref.Namespace] {
			t.noDryRun = "namespace " + t.ref.Namespace + " is created by this plan"
			t.mapping = nil
		}
	}
	if unreachable == nil {
		collect(rest, e.run(ctx, rest))
	}
	if unreachable != nil {
		return changes, problems, unreachable
	}

	if in.Env.Prune && len(r.problems) > 0 {
		// An object missing from a render that failed in part is not an
		// object removed from the repository: never plan its deletion.
		problems = append(problems, Problem{Message: "deletes are not planned while the render has problems"})
	} else if in.Env.Prune {
		deletes, err := p.planDeletes(ctx, c, set, rendered, r.base, red)
		switch {
		case isUnreachable(err):
			return changes, problems, err
		case err != nil:
			problems = append(problems, Problem{Message: fmt.Sprintf("deletes not planned: %v", err)})
		}
		changes = append(changes, deletes...)
	}
	return changes, problems, nil
}

// finish puts changes and problems in their stable order, scrubs Secret
// values from problem messages and computes the digest. The problems were
// scrubbed as they were made, but a message about one object may quote a
// Secret whose live values were read later: every value is known now.
func (p *Planner) finish(plan *Plan, red *Redactor, secrets []secretValues) *Plan {
	for i := range plan.Problems {
		plan.Problems[i].Message = red.Redact(plan.Problems[i].Message)
	}
	for i := range plan.Warnings {
		plan.Warnings[i].Message = red.Redact(plan.Warnings[i].Message)
	}
	sortChanges(plan.Changes)
	sortProblems(plan.Problems)
	sortProblems(plan.Warnings)
	plan.Problems = capProblems(plan.Problems)
	plan.Warnings = capProblems(plan.Warnings)
	plan.Digest = computeDigest(p.DigestKey, plan.Changes, plan.Problems, secrets)
	return plan
}

// definedKinds returns the kinds that CRDs among objs define.
func definedKinds(objs []Object) map[schema.GroupKind]bool {
	kinds := map[schema.GroupKind]bool{}
	for _, o := range objs {
		if !refOf(o.Obj).IsCRD() {
			continue
		}
		group, _, _ := unstructuredString(o.Obj.Object, "spec", "group")
		kind, _, _ := unstructuredString(o.Obj.Object, "spec", "names", "kind")
		if kind != "" {
			kinds[schema.GroupKind{Group: group, Kind: kind}] = true
		}
	}
	return kinds
}
