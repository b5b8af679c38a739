package planner

import (
	"errors"
	"fmt"
	"io/fs"
)

// limitError is a render stopped by one of its Limits; its message is what
// the user reads.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

func errRepoTooBig(lim Limits) error {
	return &limitError{fmt.Sprintf("repository is larger than the %s limit", byteSize(lim.MaxRepoBytes))}
}

func errTooManyObjects(lim Limits) error {
	return &limitError{fmt.Sprintf("render produced more than %d objects (the limit)", lim.MaxObjects)}
}

func errOutputTooBig(max int64) error {
	return &limitError{fmt.Sprintf("rendered output is larger than %s (the limit)", byteSize(max))}
}

// limitProblem turns an error that stopped a render into a Problem. A limit
// hit stands alone; anything else is reported at dir.
func limitProblem(err error, dir string) Problem {
	var le *limitError
	if errors.As(err, &le) {
		return Problem{Message: le.msg}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return Problem{Source: Location{File: dir}, Message: fmt.Sprintf("path %q does not exist in the repository", dir)}
	}
	return Problem{Source: Location{File: dir}, Message: "render: " + err.Error()}
}

// maxOutputBytes bounds what a render child may send back. Kustomize can
// multiply input (a base included many times), so the bound is a multiple
// of the repository limit rather than equal to it.
func (l Limits) maxOutputBytes() int64 {
	return 4*l.MaxRepoBytes + 1<<20
}
