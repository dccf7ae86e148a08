// Package main is a placeholder so the module has a package of its own; the
// binary we actually build is the go.mod tool k8s.io/kubernetes/cmd/kube-apiserver.
package main

func main() {}
