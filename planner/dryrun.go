package planner

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboatops/tugboat/internal/panics"
	"github.com/tugboatops/tugboat/kube"
)

// requestTimeout bounds one dry-run: a cluster that stops answering in
// the middle of a plan must not hang it.
const requestTimeout = time.Minute

// target is one rendered object on its way through the dry-run.
type target struct {
	obj     Object
	ref     ObjectRef
	mapping *meta.RESTMapping // nil when noDryRun is set
	ignore  []string
	// leftOut are the ignore rules' paths the rendered object sets: they
	// are not sent, and the diff's header says so.
	leftOut []string
	// noDryRun says why the object is shown as a create of its rendered
	// form: its namespace or its CRD is created by this same plan, so the
	// server cannot dry-run it yet (DESIGN.md decision 2).
	noDryRun string
	group    *liveGroup // nil: read the live object with a GET
}

// outcome is what planning one target produced.
type outcome struct {
	change Change
	// sent is the object the dry-run sent (for a create or an update), so
	// the apply sends exactly what was planned.
	sent        *unstructured.Unstructured
	problem     *Problem
	unreachable error
	// violations and warnings are the object's failed deny and warn
	// policies (see policySet.check); the change is still shown.
	violations, warnings []Problem
}

// engine dry-runs targets against one cluster with bounded concurrency.
type engine struct {
	cluster     *kube.Cluster
	labels      map[string]string
	concurrency int
	redact      *Redactor
	// policies are checked on every object dry-run (nil: none).
	policies *policySet
	// owners names the ApplySets objects are taken over from.
	owners *owners
	// listThreshold overrides the package default (benchmarks compare
	// LIST with per-object GETs); 0 means listThreshold.
	listThreshold int
}

// run plans every target. Outcomes are in the targets' order. When the
// cluster stops answering, the remaining work is cancelled: one
// unreachable outcome is enough to report it.
func (e *engine) run(ctx context.Context, targets []*target) []outcome {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.startLists(ctx, targets)

	out := make([]outcome, len(targets))
	jobs := make(chan int)
	var workers, waiting sync.WaitGroup
	set := func(i int, o outcome) {
		out[i] = o
		if o.unreachable != nil {
			cancel()
		}
	}
	for range min(e.concurrency, len(targets)) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range jobs {
				t := targets[i]
				e.protect(ctx, t, func(o outcome) { set(i, o) }, func() {
					st, done := e.dryRunTarget(ctx, t)
					if done != nil {
						set(i, *done)
						return
					}
					// A worker must not sit idle while its object's LIST
					// is still on its way: that would stall the dry-runs.
					// The diff waits in a goroutine of its own instead.
					if t.group != nil && !st.fetched && !t.group.ready() {
						waiting.Add(1)
						go func() {
							defer waiting.Done()
							e.protect(ctx, t, func(o outcome) { set(i, o) }, func() { set(i, e.finish(ctx, t, st)) })
						}()
						return
					}
					set(i, e.finish(ctx, t, st))
				})
			}
		}()
	}
	for i := range targets {
		jobs <- i
	}
	close(jobs)
	workers.Wait()
	waiting.Wait()
	return out
}

// protect runs f for target t and turns a panic into a problem of t, so an
// object the planner chokes on fails its environment's plan (with the
// panic's first line) and a worker goes on with the next object, instead
// of the process going down with every plan in it.
func (e *engine) protect(ctx context.Context, t *target, set func(outcome), f func()) {
	var err error
	defer func() {
		if err != nil {
			set(e.problem(t, "tugboat failed to plan this object: "+err.Error()))
		}
	}()
	defer panics.Recover(ctx, &err)
	f()
}

// startLists groups targets by kind and namespace and starts one LIST for
// every group big enough to be worth it.
func (e *engine) startLists(ctx context.Context, targets []*target) {
	counts := map[groupKey]int{}
	for _, t := range targets {
		if t.mapping != nil {
			counts[groupKey{t.mapping.Resource, t.ref.Namespace}]++
		}
	}
	threshold := e.listThreshold
	if threshold <= 0 {
		threshold = listThreshold
	}
	groups := map[groupKey]*liveGroup{}
	for k, n := range counts {
		if n >= threshold {
			selector := ""
			if k.gvr == secretsGVR {
				selector = labels.SelectorFromSet(e.labels).String()
			}
			g := newLiveGroup(selector)
			groups[k] = g
			go g.fetch(ctx, e.cluster.Dynamic, k)
		}
	}
	for _, t := range targets {
		if t.mapping != nil {
			t.group = groups[groupKey{t.mapping.Resource, t.ref.Namespace}]
		}
	}
}

func (e *engine) live(ctx context.Context, t *target) (*unstructured.Unstructured, error) {
	if t.group != nil {
		obj, err := t.group.take(ctx, t.ref.Name)
		if err == nil || isUnreachable(err) || ctx.Err() != nil {
			return obj, err
		}
		// Not a member the LIST selected, or the LIST was refused (RBAC
		// may grant get but not list): read the object alone.
	}
	return getLive(ctx, e.cluster.Dynamic, t.mapping.Resource, t.ref.Namespace, t.ref.Name)
}

// plan dry-runs one target and diffs the result against the live object.
// dryRunState is a target between its dry-run and its diff.
type dryRunState struct {
	live    *unstructured.Unstructured
	fetched bool // live has been read
	result  *unstructured.Unstructured
	sent    *unstructured.Unstructured // what the dry-run sent
}

// dryRunTarget dry-runs one target. It returns the final outcome instead
// when there is nothing left to do (an error, or an object that cannot be
// dry-run yet).
func (e *engine) dryRunTarget(ctx context.Context, t *target) (dryRunState, *outcome) {
	var st dryRunState
	if t.noDryRun != "" {
		sent := PrepareForApply(t.obj.Obj, e.labels, t.ignore)
		o := e.compare(ctx, t, nil, sent.DeepCopy().Object, "not dry-run: "+t.noDryRun)
		o.sent = sent
		return st, &o
	}
	if IsCreateOnly(t.obj.Obj) {
		// Whether a create-only object is written at all depends on
		// whether it exists: read it first.
		var err error
		if st.live, err = e.live(ctx, t); err != nil {
			o := e.failure(ctx, t, err)
			return st, &o
		}
		st.fetched = true
		if st.live != nil && IsCreateOnly(t.obj.Obj) {
			// The applier never updates it: the plan must not show an update.
			return st, &outcome{change: Change{Ref: t.ref, Action: ActionUnchanged, Source: t.obj.Source}}
		}
	}
	var err error
	if st.result, st.sent, err = e.dryRun(ctx, t); err != nil {
		o := e.failure(ctx, t, err)
		return st, &o
	}
	return st, nil
}

// finish reads the live object (unless already read) and diffs it with
// the dry-run result.
func (e *engine) finish(ctx context.Context, t *target, st dryRunState) outcome {
	live, result, sent := st.live, st.result, st.sent
	var err error
	if !st.fetched {
		if live, err = e.live(ctx, t); err != nil {
			return e.failure(ctx, t, err)
		}
	}
	// The live object (often from a LIST made a moment earlier) and the
	// dry-run must see the same version of the object, or a controller's
	// concurrent write (a Deployment's revision annotation) shows up as a
	// change. The dry-run answers with the resourceVersion it was based on
	// (none for a create): re-read until both agree.
	for attempt := 0; rv(live) != result.GetResourceVersion() && attempt < consistencyAttempts; attempt++ {
		if live, err = getLive(ctx, e.cluster.Dynamic, t.mapping.Resource, t.ref.Namespace, t.ref.Name); err != nil {
			return e.failure(ctx, t, err)
		}
		if rv(live) == result.GetResourceVersion() {
			break
		}
		if result, sent, err = e.dryRun(ctx, t); err != nil {
			return e.failure(ctx, t, err)
		}
	}
	var liveObj map[string]any
	if live != nil {
		liveObj = live.Object
	}
	o := e.compare(ctx, t, liveObj, result.Object, "")
	o.sent = sent
	return o
}

// consistencyAttempts bounds the re-reads of an object that keeps changing
// while it is planned.
const consistencyAttempts = 3

func rv(obj *unstructured.Unstructured) string {
	if obj == nil {
		return ""
	}
	return obj.GetResourceVersion()
}

// dryRun sends the object as the applier will, with dryRun=All. It returns
// the server's answer and the object sent.
func (e *engine) dryRun(ctx context.Context, t *target) (result, sent *unstructured.Unstructured, err error) {
	sent = PrepareForApply(t.obj.Obj, e.labels, t.ignore)
	body, err := sent.MarshalJSON()
	if err != nil {
		return nil, nil, fmt.Errorf("encode object: %w", err)
	}
	force := true
	reqCtx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	result, err = e.cluster.Dynamic.Resource(t.mapping.Resource).Namespace(t.ref.Namespace).Patch(reqCtx,
		t.ref.Name, types.ApplyPatchType, body, metav1.PatchOptions{
			DryRun:          []string{metav1.DryRunAll},
			FieldManager:    kube.FieldManager,
			Force:           &force,
			FieldValidation: metav1.FieldValidationStrict,
		})
	return result, sent, err
}

// compare checks the policies, normalizes both sides, masks Secrets and
// makes the change. note, when set, says in the diff's header how the
// planned side was made.
func (e *engine) compare(ctx context.Context, t *target, live, planned map[string]any, note string) outcome {
	// Policies see the objects as admission would: before normalizing.
	deny, warn := e.policies.check(ctx, t, planned, live, e.redact.Redact)
	o := e.diffObjects(ctx, t, live, planned, note)
	o.violations, o.warnings = deny, warn
	return o
}

// diffObjects normalizes both sides, masks Secrets and makes the change.
func (e *engine) diffObjects(ctx context.Context, t *target, live, planned map[string]any, note string) outcome {
	normalizeForDiff(planned)
	removePaths(planned, t.ignore)
	action := ActionCreate
	if live != nil {
		normalizeForDiff(live)
		removePaths(live, t.ignore)
		action = ActionUpdate
	}
	if isSecret(t.obj.Obj) {
		if live != nil {
			// An admission message may quote oldObject.data, at apply
			// time as much as now: the live values are scrubbed too.
			e.redact.addSecret(t.ref, live)
		}
		maskSecretPair(live, planned)
	}
	ch := Change{Ref: t.ref, Action: action, Source: t.obj.Source}
	if live != nil && reflect.DeepEqual(live, planned) {
		ch.Action = ActionUnchanged
		return outcome{change: ch}
	}
	if live != nil {
		adopt, other := ownershipChange(live, planned, e.labels)
		if adopt {
			ch.Action = ActionAdopt
			return outcome{change: ch}
		}
		if other != "" {
			ch.Danger = e.owners.danger(ctx, other)
		}
	}
	diff, err := unifiedDiffLabeled(live, planned, plannedLabel(note, t.leftOut))
	if err != nil {
		return e.problem(t, fmt.Sprintf("diff: %v", err))
	}
	ch.Diff = diff
	return outcome{change: ch}
}

// failure turns a dry-run or read error into the outcome a reviewer sees.
func (e *engine) failure(ctx context.Context, t *target, err error) outcome {
	if isUnreachable(err) || ctx.Err() != nil {
		return outcome{unreachable: err}
	}
	if fields := immutableFields(err); len(fields) > 0 {
		return e.problem(t, "needs replacement: "+strings.Join(fields, ", ")+" cannot be changed in place (field is immutable)")
	}
	if isSecret(t.obj.Obj) {
		e.learnLive(ctx, t)
	}
	msg := readableDenial(serverMessage(err))
	if e.redact.hasShort(t.ref) {
		msg = structuredMessage(err)
	}
	return e.problem(t, msg)
}

// learnLive registers the live values of a Secret whose dry-run failed
// before its live object was diffed: the refusal (a policy or webhook
// quoting oldObject.data) may contain them. A read that fails leaves only
// the rendered values known; the refusal itself is what the reviewer needs.
func (e *engine) learnLive(ctx context.Context, t *target) {
	if t.mapping == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	live, err := getLive(ctx, e.cluster.Dynamic, t.mapping.Resource, t.ref.Namespace, t.ref.Name)
	if err == nil && live != nil {
		e.redact.addSecret(t.ref, live.Object)
	}
}

func (e *engine) problem(t *target, msg string) outcome {
	return outcome{problem: &Problem{Source: t.obj.Source, Object: t.ref.String(), Message: e.redact.Redact(msg)}}
}

// plannedLabel is the planned side's name in a diff header: "planned", with
// why it was not dry-run and which fields the ignore rules left out, so a
// reviewer sees in the diff itself that a value of the manifest is not sent
// (the header is part of the diff, and so of the digest).
func plannedLabel(note string, leftOut []string) string {
	var notes []string
	if note != "" {
		notes = append(notes, note)
	}
	if len(leftOut) > 0 {
		notes = append(notes, "left out by ignore rules: "+strings.Join(leftOut, ", "))
	}
	if len(notes) == 0 {
		return "planned"
	}
	return "planned (" + strings.Join(notes, "; ") + ")"
}
