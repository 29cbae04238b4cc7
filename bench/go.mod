module github.com/nodetls/nodetls/bench

go 1.26

require github.com/nodetls/nodetls v0.0.0

replace github.com/nodetls/nodetls => ../
