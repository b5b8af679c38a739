package ops

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/tugboatops/tugboat/applier"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/kube"
)

// LockInfo describes a PR lock: which pull request holds the environment
// ("owner/repo#N"), who applied, and which head.
type LockInfo = kube.LockInfo

// LockedError says another pull request holds an environment's lock.
type LockedError = kube.LockedError

// EnvState is what ops keeps in an environment's cluster: the PR lock, the
// apply mutex and the record of the last apply. KubeState is the real one.
type EnvState interface {
	// AcquireLock takes env's PR lock for info.Holder; taken is false when
	// that holder had it already. Another holder: a *LockedError.
	AcquireLock(ctx context.Context, env config.Environment, repo string, info LockInfo) (taken bool, err error)
	// ReleaseLock releases env's lock if holder holds it.
	ReleaseLock(ctx context.Context, env config.Environment, repo, holder string) error
	// ReadLock gives env's lock, nil when unlocked.
	ReadLock(ctx context.Context, env config.Environment, repo string) (*LockInfo, error)
	// AcquireMutex blocks until this process holds env's apply mutex. The
	// context it returns ends if the mutex is lost (another process took
	// it over), so writes stop; release gives it up.
	AcquireMutex(ctx context.Context, env config.Environment, repo string) (held context.Context, release func(), err error)
	// Record reads env's record of its last apply (zero when none).
	Record(ctx context.Context, env config.Environment, repo string) (kube.Record, error)
	// RecordCommit moves env's record to a commit without applying: the
	// commit's plan is empty there.
	RecordCommit(ctx context.Context, env config.Environment, repo string, rec kube.Record) error
	// Pin reads env's pin (nil: not pinned); SetPin pins env, Unpin
	// unpins it (see kube.SetPin).
	Pin(ctx context.Context, env config.Environment, repo string) (*kube.Pin, error)
	SetPin(ctx context.Context, env config.Environment, repo string, p kube.Pin) error
	Unpin(ctx context.Context, env config.Environment, repo string) error
}

// KubeState keeps locks, mutexes and records in the environments' clusters
// (Leases and the ApplySet parent in tugboat-system): no database, so
// replicas share them.
type KubeState struct {
	Clusters *kube.Registry
	// Identity names this process as a mutex holder (host, pid, random).
	Identity string
}

func (s *KubeState) cluster(env config.Environment) (*kube.Cluster, error) {
	c, err := s.Clusters.Cluster(env.Cluster)
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", env.Name, err)
	}
	return c, nil
}

// AcquireLock implements EnvState.
func (s *KubeState) AcquireLock(ctx context.Context, env config.Environment, repo string, info LockInfo) (bool, error) {
	c, err := s.cluster(env)
	if err != nil {
		return false, err
	}
	// Before the Lease is touched: a missing rule is one clear refusal.
	if err := applier.CheckAccess(ctx, c); err != nil {
		return false, err
	}
	return kube.AcquireLock(ctx, c, kube.ApplySet{Repo: repo, Env: env.Name}, info)
}

// ReleaseLock implements EnvState.
func (s *KubeState) ReleaseLock(ctx context.Context, env config.Environment, repo, holder string) error {
	c, err := s.cluster(env)
	if err != nil {
		return err
	}
	return kube.ReleaseLock(ctx, c, kube.ApplySet{Repo: repo, Env: env.Name}, holder)
}

// ReadLock implements EnvState.
func (s *KubeState) ReadLock(ctx context.Context, env config.Environment, repo string) (*LockInfo, error) {
	c, err := s.cluster(env)
	if err != nil {
		return nil, err
	}
	return kube.ReadLock(ctx, c, kube.ApplySet{Repo: repo, Env: env.Name})
}

// AcquireMutex implements EnvState.
func (s *KubeState) AcquireMutex(ctx context.Context, env config.Environment, repo string) (context.Context, func(), error) {
	c, err := s.cluster(env)
	if err != nil {
		return nil, nil, err
	}
	// Leader election retries a forbidden Lease until ctx ends: check first.
	if err := applier.CheckAccess(ctx, c); err != nil {
		return nil, nil, fmt.Errorf("apply mutex of %s: %w", env.Name, err)
	}
	m, err := kube.AcquireMutex(ctx, c, kube.ApplySet{Repo: repo, Env: env.Name}, s.Identity, kube.MutexOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("apply mutex of %s: %w", env.Name, err)
	}
	// The mutex is lost when its renewals keep failing (the holder gives it
	// up before anyone may take it over): the cluster did not answer. That
	// is the reason the apply stopped, so it is the context's cause, which
	// the applier reports instead of a bare "context canceled".
	held, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-m.Lost():
			zerolog.Ctx(ctx).Error().Msg("lost the apply mutex (its renewals failed): stopping the apply")
			cancel(fmt.Errorf("cluster %s did not answer: the apply mutex could not be renewed", env.Cluster))
		case <-held.Done():
		}
	}()
	return held, func() {
		cancel(nil)
		if err := m.Release(context.WithoutCancel(ctx)); err != nil {
			// Not fatal: a mutex that is no longer renewed is taken over.
			zerolog.Ctx(ctx).Warn().Err(err).Msg("could not release the apply mutex")
		}
	}, nil
}

// Record implements EnvState.
func (s *KubeState) Record(ctx context.Context, env config.Environment, repo string) (kube.Record, error) {
	c, err := s.cluster(env)
	if err != nil {
		return kube.Record{}, err
	}
	inv, err := kube.ReadInventory(ctx, c, kube.ApplySet{Repo: repo, Env: env.Name})
	if err != nil {
		return kube.Record{}, err
	}
	return kube.RecordFrom(inv), nil
}

// RecordCommit implements EnvState.
func (s *KubeState) RecordCommit(ctx context.Context, env config.Environment, repo string, rec kube.Record) error {
	c, err := s.cluster(env)
	if err != nil {
		return err
	}
	return kube.RecordCommit(ctx, c, kube.ApplySet{Repo: repo, Env: env.Name}, rec)
}

// ClusterNames implements RecordStore.
func (s *KubeState) ClusterNames() []string { return s.Clusters.Names() }

// ListRecords implements RecordStore.
func (s *KubeState) ListRecords(ctx context.Context, cluster string) ([]kube.ApplySetRecord, error) {
	c, err := s.Clusters.Cluster(cluster)
	if err != nil {
		return nil, err
	}
	return kube.ListRecords(ctx, c)
}

// MutexHolder implements RecordStore.
func (s *KubeState) MutexHolder(ctx context.Context, env config.Environment, repo string) (string, bool, error) {
	c, err := s.cluster(env)
	if err != nil {
		return "", false, err
	}
	return kube.MutexHolder(ctx, c, kube.ApplySet{Repo: repo, Env: env.Name})
}

// FailInterrupted implements RecordStore.
func (s *KubeState) FailInterrupted(ctx context.Context, env config.Environment, repo string, started kube.Record, message string) (bool, error) {
	c, err := s.cluster(env)
	if err != nil {
		return false, err
	}
	return kube.FailInterrupted(ctx, c, kube.ApplySet{Repo: repo, Env: env.Name}, started, message)
}

// SetDrift implements RecordStore.
func (s *KubeState) SetDrift(ctx context.Context, cluster string, set kube.ApplySet, d kube.DriftStatus) error {
	c, err := s.Clusters.Cluster(cluster)
	if err != nil {
		return err
	}
	return kube.SetDrift(ctx, c, set, d)
}
