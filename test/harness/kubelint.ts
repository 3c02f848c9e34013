/** The kube-linter port moved to lib/check/ (shipped as `scalecharts check`); kept here so test imports stay put. */
export * from '../../lib/check/kubelint';
