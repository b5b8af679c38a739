package config

// Ordered puts environments after those they name in `after` (validation
// rejects cycles), otherwise keeping their order: the order of `bot apply
// --all`, of a merge deploy and of a multi-environment /apply.
func Ordered(envs []Environment) []Environment {
	byName := map[string]Environment{}
	for _, e := range envs {
		byName[e.Name] = e
	}
	var out []Environment
	done := map[string]bool{}
	var visit func(e Environment)
	visit = func(e Environment) {
		if done[e.Name] {
			return
		}
		done[e.Name] = true
		for _, dep := range e.After {
			if d, ok := byName[dep]; ok {
				visit(d)
			}
		}
		out = append(out, e)
	}
	for _, e := range envs {
		visit(e)
	}
	return out
}
