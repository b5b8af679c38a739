package config

import "strings"

// checkAfter reports after entries naming unknown environments and every
// cycle, once, at the entry that closes it.
func (p *problems) checkAfter(envs []Environment, lines map[string]map[string]int) {
	byName := map[string]Environment{}
	for _, e := range envs {
		byName[e.Name] = e
	}
	for _, e := range envs {
		for _, a := range e.After {
			if _, ok := byName[a]; !ok {
				p.add(lines[e.Name][a], "environments.%s.after: unknown environment %q", e.Name, a)
			} else if a == e.Name {
				p.add(lines[e.Name][a], "environments.%s.after: an environment cannot come after itself", e.Name)
			}
		}
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		state[name] = visiting
		stack = append(stack, name)
		for _, a := range byName[name].After {
			if _, ok := byName[a]; !ok || a == name {
				continue
			}
			switch state[a] {
			case visiting:
				start := 0
				for i, s := range stack {
					if s == a {
						start = i
					}
				}
				cycle := append(append([]string{}, stack[start:]...), a)
				p.add(lines[name][a], "environments.%s.after: %q forms a cycle: %s", name, a, strings.Join(cycle, " → "))
			case unvisited:
				visit(a)
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
	}
	for _, e := range envs {
		if state[e.Name] == unvisited {
			visit(e.Name)
		}
	}
}
