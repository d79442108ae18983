/// Finding a cycle in the stage graph, to print it.
enum StageCycle {
    /// The stage indices of one cycle, in dependency order, or nil.
    static func find(in stages: [Stage]) -> [Int]? {
        enum Mark { case unvisited, onPath, finished }
        var marks = Array(repeating: Mark.unvisited, count: stages.count)
        var path: [Int] = []
        // Iterative DFS: a stage list can be long, recursion depth must not depend on it.
        for start in stages.indices where marks[start] == .unvisited {
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            marks[start] = .onPath
            path.append(start)
            while let top = stack.last {
                let dependencies = stages[top.node].dependencies
                if top.next < dependencies.count {
                    stack[stack.count - 1].next += 1
                    let target = dependencies[top.next]
                    switch marks[target] {
                    case .onPath:
                        let begin = path.firstIndex(of: target) ?? 0
                        // Dependency order (each stage runs before the next), starting at the first stage.
                        let cycle = Array(path[begin...].reversed())
                        let first = cycle.indices.min { cycle[$0] < cycle[$1] } ?? 0
                        return Array(cycle[first...] + cycle[..<first])
                    case .unvisited:
                        marks[target] = .onPath
                        path.append(target)
                        stack.append((target, 0))
                    case .finished:
                        break
                    }
                } else {
                    marks[top.node] = .finished
                    path.removeLast()
                    stack.removeLast()
                }
            }
        }
        return nil
    }
}
