package applier

import "github.com/tugboatops/tugboat/planner"

// clean redacts an error Apply returns. The refusals and IncompleteError
// are built from redacted parts (the plan's problems, redacted causes) and
// are returned as they are, so callers can still tell them apart with
// errors.As; anything else may carry an API server's text and is redacted.
func (a *run) clean(err error) error {
	switch err.(type) {
	case nil, *PlanChangedError, *ProblemsError, *DangerousError, *DeniedError, *IncompleteError:
		return err
	}
	return a.red.RedactError(err)
}

// redactWait scrubs Secret values from a wait's result, in place: status
// messages, and a diagnosis' pod and container messages, events and log
// lines (an application may well print its own credentials). It returns w.
func redactWait(red *planner.Redactor, w *WaitResult) *WaitResult {
	if w == nil {
		return nil
	}
	for i := range w.Objects {
		o := &w.Objects[i]
		o.Message = red.Redact(o.Message)
		if o.Diagnosis != nil {
			redactDiagnosis(red, o.Diagnosis)
		}
	}
	return w
}

func redactDiagnosis(red *planner.Redactor, d *Diagnosis) {
	for i := range d.Pods {
		p := &d.Pods[i]
		p.Message = red.Redact(p.Message)
		for j := range p.Containers {
			c := &p.Containers[j]
			c.Message = red.Redact(c.Message)
			c.LastTermination = red.Redact(c.LastTermination)
			c.LogsError = red.Redact(c.LogsError)
			for k := range c.Logs {
				c.Logs[k] = red.Redact(c.Logs[k])
			}
		}
	}
	for i := range d.Events {
		d.Events[i].Message = red.Redact(d.Events[i].Message)
	}
}
