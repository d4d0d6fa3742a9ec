import ChartSyncBasics
import ChartSyncCore

/// Why a `bundle.include` entry was refused; names the chart list, the entry and its line.
public struct IncludeError: ChartSyncFailure, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Error, Sendable {
        /// The pattern matched no file or directory (a typo must not ship an incomplete delivery).
        case matchesNothing
        /// A matched path is a link or a special file, or a literal path leads through a link.
        case unsupported(path: String, what: String)
        /// A matched path is one the site keeps for itself (`index.yaml`, `.chartsync/`).
        case reserved(path: String)
        /// The project could not be read.
        case fileSystem(FileSystemError)
    }

    /// The chart list's path.
    public let source: String
    /// The entry as written.
    public let entry: String
    /// Its 1-based line in the chart list.
    public let line: Int
    /// What is wrong.
    public let reason: Reason

    public var kind: FailureKind {
        switch reason {
        case .matchesNothing, .reserved: return .input
        case .unsupported: return .verification
        case .fileSystem: return .io
        }
    }

    public var description: String {
        let head = "\(source): line \(line): bundle.include \(Quoting.doubleQuoted(entry))"
        switch reason {
        case .matchesNothing:
            return "\(head) matches nothing; fix or remove the entry (a bundle never leaves out what the list names)"
        case .unsupported(let path, let what):
            return "\(head): \(path) is \(what); a bundle carries regular files only and never follows links"
        case .reserved(let path):
            return "\(head): \(path) is a path chartsync keeps for itself in a site; rename it or leave it out"
        case .fileSystem(let error):
            return "\(head): \(error.description)"
        }
    }
}

/// What `bundle.include` adds to a bundle: the files its patterns match below the project root,
/// without what the bundle carries anyway (the chart list, the locks, charts/external,
/// charts/custom, charts/patches, images/). A matched directory means every regular file below
/// it, dotfiles included (as charts/custom is carried). Links are never followed: a link a
/// pattern matches, or one inside a matched directory, or one a literal path leads through, is
/// refused; `*`, `?` and `**` do not descend through links. Every entry must match something.
public struct IncludedFiles: Sendable {
    private let layout: ProjectLayout

    /// Expands the includes of the project at `layout`.
    public init(layout: ProjectLayout) {
        self.layout = layout
    }

    /// Whether the bundle carries `path` (relative to the root) without any include.
    public func isCarried(_ path: String) -> Bool {
        if path == FileSystem.baseName(layout.chartList) || path == "versions.lock" || path == "images.lock" { return true }
        return ["charts/external", "charts/custom", "charts/patches", "images"].contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// The relative paths of the files the entries add, sorted, each once.
    public func files(_ entries: [ChartList.BundleSettings.Include]) throws(IncludeError) -> [String] {
        var all = Set<String>()
        for entry in entries {
            var expansion = Expansion(root: layout.root, pattern: entry.pattern, isCarried: isCarried)
            do {
                try expansion.step("", 0)
            } catch {
                throw IncludeError(source: layout.chartList, entry: entry.pattern.text, line: entry.line, reason: error)
            }
            guard expansion.matched else {
                throw IncludeError(source: layout.chartList, entry: entry.pattern.text, line: entry.line, reason: .matchesNothing)
            }
            for path in expansion.found where path == "index.yaml" || path.hasPrefix(".chartsync/") {
                throw IncludeError(source: layout.chartList, entry: entry.pattern.text, line: entry.line, reason: .reserved(path: path))
            }
            all.formUnion(expansion.found)
        }
        return all.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// One pattern's walk over the project.
    private struct Expansion {
        let root: String
        let pattern: IncludePattern
        let isCarried: (String) -> Bool
        /// Whether the pattern named anything, carried or not.
        var matched = false
        /// The files it adds.
        var found = Set<String>()

        private func join(_ directory: String, _ name: String) -> String { directory.isEmpty ? name : directory + "/" + name }

        private func type(_ relative: String) throws(IncludeError.Reason) -> FileType? {
            do {
                return try FileSystem.type(of: root + "/" + relative)
            } catch {
                throw .fileSystem(error)
            }
        }

        private func list(_ relative: String) throws(IncludeError.Reason) -> [String] {
            do {
                return try FileSystem.listDirectory(relative.isEmpty ? root : root + "/" + relative)
            } catch {
                throw .fileSystem(error)
            }
        }

        /// Matches components `index...` below `directory` ("" is the root).
        mutating func step(_ directory: String, _ index: Int) throws(IncludeError.Reason) {
            let components = pattern.components
            if index == components.count {
                if !directory.isEmpty { try take(directory) }
                return
            }
            let last = index == components.count - 1
            switch components[index] {
            case .literal(let name):
                let child = join(directory, name)
                guard let kind = try type(child) else { return }
                if last {
                    try take(child)
                } else if kind == .directory {
                    try step(child, index + 1)
                } else if case .other(let what) = kind {
                    throw .unsupported(path: child, what: what)
                }
            case .wildcard(let glob):
                for name in try list(directory) where IncludePattern.matches(glob, name: name) {
                    let child = join(directory, name)
                    if last {
                        try take(child)
                    } else if try type(child) == .directory {
                        try step(child, index + 1)
                    }
                }
            case .anyDepth:
                if last && !directory.isEmpty {
                    try take(directory)
                    return
                }
                if last {
                    for name in try list(directory) where !name.hasPrefix(".") { try take(join(directory, name)) }
                    return
                }
                try step(directory, index + 1)
                for name in try list(directory) where !name.hasPrefix(".") {
                    let child = join(directory, name)
                    if try type(child) == .directory { try step(child, index) }
                }
            }
        }

        /// A path the whole pattern names: a file, or a directory with everything below it.
        private mutating func take(_ path: String) throws(IncludeError.Reason) {
            switch try type(path) {
            case nil:
                return
            case .regular?:
                guard !pattern.directoryOnly else { return }
                matched = true
                if !isCarried(path) { found.insert(path) }
            case .directory?:
                matched = true
                try walk(path)
            case .other(let what)?:
                throw .unsupported(path: path, what: what)
            }
        }

        /// Every regular file below `directory`, dotfiles included, carried trees skipped.
        private mutating func walk(_ directory: String) throws(IncludeError.Reason) {
            guard !isCarried(directory) else { return }
            for name in try list(directory) {
                let child = join(directory, name)
                if isCarried(child) { continue }
                switch try type(child) {
                case .regular?: found.insert(child)
                case .directory?: try walk(child)
                case .other(let what)?: throw .unsupported(path: child, what: what)
                case nil: break
                }
            }
        }
    }
}
