package config

import "sort"

// CheckClusters reports each environment of cfg naming a cluster that
// allowed refuses, at the line of its cluster key, in line order; nil when
// every cluster is allowed. The server's cluster registry is not in the
// repository, so ParseRepo cannot do this itself: the caller, which knows
// the repository and the server config, checks after parsing, e.g.
//
//	errs := config.CheckClusters(cfg, func(c string) bool { return srv.ClusterAllows(c, "acme/shop") })
func CheckClusters(cfg *RepoConfig, allowed func(cluster string) bool) Errors {
	file := cfg.File
	if file == "" {
		file = RepoFile
	}
	var errs Errors
	for _, env := range cfg.Environments {
		if allowed(env.Cluster) {
			continue
		}
		errs = append(errs, Error{File: file, Line: cfg.KeyLine("environments", env.Name, "cluster"),
			Message: "environments." + env.Name + ".cluster: this repository may not use cluster \"" + env.Cluster +
				"\" (the bot's server config says which clusters exist and which repositories may use each)"})
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}
