// Package panics turns a panic in one of the planner's or the applier's
// worker goroutines into an error of the environment being worked on.
//
// A panic in a goroutine cannot be recovered by whoever started it: unless
// that goroutine recovers it itself, it ends the whole process — every other
// environment's plan and apply with it, and an apply half done. So every
// goroutine the planner and the applier start defers Recover.
package panics

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/rs/zerolog"
)

// Error is a recovered panic. Its message is the panic value's first line
// only: later lines of a panic value are dumps nobody should see in a pull
// request comment. The stack goes to the log instead.
type Error struct {
	// Value is the first line of the panic value.
	Value string
}

func (e *Error) Error() string { return "panic: " + e.Value }

// Is reports whether err is, or wraps, a recovered panic.
func Is(err error) bool {
	var pe *Error
	return errors.As(err, &pe)
}

// Recover, deferred directly by a goroutine, turns a panic of that
// goroutine into *errp (an *Error) and logs the stack with the context's
// logger. It does nothing when there was no panic.
func Recover(ctx context.Context, errp *error) {
	v := recover()
	if v == nil {
		return
	}
	first, _, _ := strings.Cut(fmt.Sprint(v), "\n")
	err := &Error{Value: first}
	zerolog.Ctx(ctx).Error().Str("panic", first).Str("stack", string(debug.Stack())).Msg("recovered a panic")
	*errp = err
}
