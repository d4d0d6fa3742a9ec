import ChartSyncCore
import ChartSyncTemplate

/// How one compared item differs between the locked version and the candidate.
public enum DiffKind: String, Sendable, Equatable {
    /// Only the candidate has it.
    case added
    /// Only the locked version has it.
    case removed
    /// Both have it, differently.
    case changed
}

/// What `chartsync diff` found between a chart's locked, vendored version and a candidate.
public struct ChartDiff: Sendable {
    /// Why this candidate was compared.
    public enum Candidate: String, Sendable {
        /// `--to VERSION`.
        case asked
        /// The newest version the chart list's constraint admits (what `pull` would take).
        case wanted
        /// No version is admitted: the newest there is.
        case latest
    }

    /// The chart's name.
    public let chart: String
    /// Its repository (redacted).
    public let repository: String
    /// The locked, vendored version.
    public let from: String
    /// The candidate's version.
    public let to: String
    /// Why the candidate was chosen.
    public let candidate: Candidate
    /// The candidate's sha256, proven against the repository's digest.
    public let candidateSHA256: Digest
    /// Chart.yaml's version, appVersion, kubeVersion and deprecated, where they differ.
    public let metadata: [FieldChange]
    /// Dependencies (Chart.yaml, or requirements.yaml) by the name their values section has.
    public let dependencies: [DependencyChange]
    /// Default values (the chart's values.yaml with its subcharts' under their sections), as key paths.
    public let values: [ValueChange]
    /// The images the chart uses with default values.
    public let images: ImageChanges
    /// Template files (`templates/`, subcharts' under `charts/<name>/`) that are not CRDs.
    public let templates: [FileChange]
    /// CRDs: files under `crds/` (Helm installs them once and never upgrades them) and templates
    /// whose kind is CustomResourceDefinition (upgraded like any template).
    public let crds: [FileChange]
    /// The `--values` files, as given, in order.
    public let valuesFiles: [String]
    /// Keys the values files set that the candidate's defaults do not have (``ChartComparison/ignoredOverrides(_:candidate:locked:)``).
    public let ignoredOverrides: [IgnoredOverride]
    /// With values files: the images each version uses with them.
    public let imagesWithValues: ImageChanges?
}

/// A Chart.yaml field that differs.
public struct FieldChange: Sendable, Equatable {
    /// `version`, `appVersion`, `kubeVersion`, `deprecated`.
    public let field: String
    /// The locked version's value (nil: not set).
    public let from: String?
    /// The candidate's value (nil: not set).
    public let to: String?
}

/// A dependency as `diff` compares it.
public struct DependencyInfo: Sendable, Equatable {
    /// The chart name.
    public let chart: String
    /// The version constraint, as written.
    public let version: String?
    /// The condition, as written.
    public let condition: String?
    /// The repository, as written.
    public let repository: String?
}

/// A dependency added, removed, or whose version, condition or repository changed.
public struct DependencyChange: Sendable, Equatable {
    /// The name of its values section (its alias, else its chart name).
    public let name: String
    /// Added, removed or changed.
    public let kind: DiffKind
    /// In the locked version.
    public let from: DependencyInfo?
    /// In the candidate.
    public let to: DependencyInfo?
}

/// A default value added, removed or changed, at a key path (`a.b.c`, `a[0]`; a key holding `.`,
/// `[`, `]`, `"` or a space is double-quoted: `podAnnotations."a.b/c"`).
public struct ValueChange: Sendable, Equatable {
    /// The key path.
    public let path: String
    /// Added, removed or changed.
    public let kind: DiffKind
    /// The locked version's value as YAML shows it (`"1.0"` quoted, `1.0` plain, `null`, `{}`, `[]`).
    public let from: String?
    /// The candidate's value, likewise.
    public let to: String?
}

/// Image references of both versions and how they differ.
public struct ImageChanges: Sendable, Equatable {
    /// An image whose repository stayed and whose tag (or digest) changed.
    public struct Change: Sendable, Equatable {
        /// In the locked version.
        public let from: ImageReference
        /// In the candidate.
        public let to: ImageReference
    }

    /// Every image the locked version uses, sorted.
    public let from: [ImageReference]
    /// Every image the candidate uses, sorted.
    public let to: [ImageReference]
    /// Images of repositories the locked version does not use.
    public let added: [ImageReference]
    /// Images of repositories the candidate does not use.
    public let removed: [ImageReference]
    /// Same registry and repository, another tag or digest.
    public let changed: [Change]
}

/// A template or CRD file added, removed or changed.
public struct FileChange: Sendable, Equatable {
    /// The path inside the chart (`templates/deployment.yaml`, `crds/x.yaml`, `charts/redis/templates/x.yaml`).
    public let path: String
    /// Added, removed or changed.
    public let kind: DiffKind
    /// Lines only the candidate has (counted as a multiset, not a line-by-line diff).
    public let linesAdded: Int
    /// Lines only the locked version has.
    public let linesRemoved: Int
    /// For CRDs: whether Helm applies the change on upgrade (a template) or not (`crds/`).
    public let upgradedByHelm: Bool
}

/// A key a values file sets that the candidate's defaults do not have: Helm takes it silently
/// and no template reads it.
public struct IgnoredOverride: Sendable, Equatable {
    /// The key path the file sets (a leaf: `a.b.c`).
    public let path: String
    /// The first key of it that the defaults lack (`a.b`).
    public let missing: String
    /// The values file, as given.
    public let file: String
    /// The 1-based line of the value.
    public let line: Int
    /// Whether the locked version's defaults have `missing` (the candidate removed or renamed it).
    public let inLocked: Bool
}

/// The comparisons `diff` makes; pure functions of what both versions hold.
public enum ChartComparison {
    /// A leaf of a values tree: its key path, its value as YAML shows it, and where it is.
    struct Leaf {
        let path: String
        let value: String
        let file: String
        let line: Int
    }

    /// `key` as one step of a key path.
    static func component(_ key: String) -> String {
        let plain = !key.isEmpty && !key.contains { ".[]\" \t\n".contains($0) }
        return plain ? key : Quoting.doubleQuoted(key)
    }

    /// `path` followed by `key`.
    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? component(key) : path + "." + component(key)
    }

    /// The value of a leaf as YAML shows it.
    static func shown(_ node: ValueNode) -> String {
        switch node.content {
        case .null: return "null"
        case .scalar(let text, let plain): return plain ? text : Quoting.doubleQuoted(text)
        case .map(let pairs): return pairs.isEmpty ? "{}" : "{...}"
        case .list(let items): return items.isEmpty ? "[]" : "[...]"
        }
    }

    /// Every leaf below `node` (scalars, nulls, empty mappings and lists), in document order.
    static func leaves(_ node: ValueNode, path: String = "") -> [Leaf] {
        var out: [Leaf] = []
        func walk(_ node: ValueNode, _ path: String) {
            switch node.content {
            case .map(let pairs) where !pairs.isEmpty:
                for pair in pairs { walk(pair.value, join(path, pair.key)) }
            case .list(let items) where !items.isEmpty:
                for (index, item) in items.enumerated() { walk(item, path + "[\(index)]") }
            default:
                out.append(Leaf(path: path, value: shown(node), file: node.file, line: node.line))
            }
        }
        walk(node, path)
        return out.filter { !$0.path.isEmpty }
    }

    /// Default values added, changed (in the candidate's order), then removed (in the locked
    /// version's order).
    public static func values(_ old: ValueNode, _ new: ValueNode) -> [ValueChange] {
        let oldLeaves = leaves(old), newLeaves = leaves(new)
        var oldByPath: [String: String] = [:]
        for leaf in oldLeaves where oldByPath[leaf.path] == nil { oldByPath[leaf.path] = leaf.value }
        var newPaths = Set<String>()
        var out: [ValueChange] = []
        for leaf in newLeaves where newPaths.insert(leaf.path).inserted {
            if let before = oldByPath[leaf.path] {
                if before != leaf.value { out.append(ValueChange(path: leaf.path, kind: .changed, from: before, to: leaf.value)) }
            } else {
                out.append(ValueChange(path: leaf.path, kind: .added, from: nil, to: leaf.value))
            }
        }
        var removed = Set<String>()
        for leaf in oldLeaves where !newPaths.contains(leaf.path) && removed.insert(leaf.path).inserted {
            out.append(ValueChange(path: leaf.path, kind: .removed, from: leaf.value, to: nil))
        }
        return out
    }

    /// Images added, removed, and those whose repository stayed with another tag (paired in
    /// sorted order when a repository has several).
    public static func images(_ old: [ImageReference], _ new: [ImageReference]) -> ImageChanges {
        let from = Array(Set(old)).sorted(), to = Array(Set(new)).sorted()
        let oldSet = Set(from), newSet = Set(to)
        var removed = from.filter { !newSet.contains($0) }
        var added = to.filter { !oldSet.contains($0) }
        var changed: [ImageChanges.Change] = []
        for name in Set(removed.map(\.name)).intersection(added.map(\.name)).sorted() {
            let before = removed.filter { $0.name == name }, after = added.filter { $0.name == name }
            for (a, b) in zip(before, after) {
                changed.append(ImageChanges.Change(from: a, to: b))
                removed.removeAll { $0 == a }
                added.removeAll { $0 == b }
            }
        }
        return ImageChanges(from: from, to: to, added: added, removed: removed, changed: changed)
    }

    /// Whether a template's text declares `kind: CustomResourceDefinition`.
    static func declaresCRD(_ bytes: [UInt8]) -> Bool {
        String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).contains { line in
            let text = String(line).trimmingSpaces
            guard text.hasPrefix("kind:") else { return false }
            var value = String(text.dropFirst(5)).trimmingSpaces
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            return value == "CustomResourceDefinition"
        }
    }

    /// Whether `path` (inside the chart, subcharts as `charts/<name>/...`) is under a `crds/` directory.
    static func isCRDDirectory(_ path: String) -> Bool {
        let components = path.split(separator: "/").map(String.init)
        var rest = components[...]
        while rest.count >= 3, rest.first == "charts" { rest = rest.dropFirst(2) }
        return rest.first == "crds"
    }

    /// Files added, removed or changed by content: templates, and CRDs apart.
    public static func files(_ old: [String: [UInt8]], _ new: [String: [UInt8]]) -> (templates: [FileChange], crds: [FileChange]) {
        var templates: [FileChange] = [], crds: [FileChange] = []
        for path in Set(old.keys).union(new.keys).sorted() {
            let before = old[path], after = new[path]
            if before == after { continue }
            let kind: DiffKind = before == nil ? .added : after == nil ? .removed : .changed
            let (plus, minus) = lineCounts(before ?? [], after ?? [])
            let inDirectory = isCRDDirectory(path)
            let isCRD = inDirectory || declaresCRD(after ?? before ?? [])
            let change = FileChange(path: path, kind: kind, linesAdded: plus, linesRemoved: minus, upgradedByHelm: !inDirectory)
            if isCRD { crds.append(change) } else { templates.append(change) }
        }
        return (templates, crds)
    }

    /// Lines only `new` has and lines only `old` has, counted as multisets.
    static func lineCounts(_ old: [UInt8], _ new: [UInt8]) -> (added: Int, removed: Int) {
        func lines(_ bytes: [UInt8]) -> [Substring: Int] {
            var counts: [Substring: Int] = [:]
            if bytes.isEmpty { return counts }
            let text = String(decoding: bytes, as: UTF8.self)
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) { counts[line, default: 0] += 1 }
            if text.hasSuffix("\n") { counts[""]! -= 1 }   // the split's empty tail is no line
            return counts
        }
        let a = lines(old), b = lines(new)
        var added = 0, removed = 0
        for (line, count) in b { added += max(0, count - (a[line] ?? 0)) }
        for (line, count) in a { removed += max(0, count - (b[line] ?? 0)) }
        return (added, removed)
    }

    /// Dependencies added, removed or changed (version, condition or repository), by the name of
    /// their values section, in the candidate's order then the removed ones.
    public static func dependencies(_ old: [(name: String, DependencyInfo)], _ new: [(name: String, DependencyInfo)]) -> [DependencyChange] {
        var out: [DependencyChange] = []
        let newNames = Set(new.map(\.name))
        for (name, info) in new {
            if let before = old.first(where: { $0.name == name })?.1 {
                if before != info { out.append(DependencyChange(name: name, kind: .changed, from: before, to: info)) }
            } else {
                out.append(DependencyChange(name: name, kind: .added, from: nil, to: info))
            }
        }
        for (name, info) in old where !newNames.contains(name) {
            out.append(DependencyChange(name: name, kind: .removed, from: info, to: nil))
        }
        return out
    }

    /// The keys `user` (the merged values files) sets that `candidate` (the candidate's computed
    /// default values) does not have. The rule, key by key from the top: a key the defaults have
    /// is followed further down while both sides are mappings (a list or scalar replaces the
    /// default as a whole: nothing to check below it); a key the defaults lack is reported, with
    /// every leaf the files set below it, when its parent is a mapping with other keys (or the
    /// top). A key under an empty mapping (`podAnnotations: {}`), under a null, list or scalar
    /// default, and anything under `global` (any chart's) or the top's `tags` is open and never
    /// reported. `locked` (the locked version's defaults) tells whether the candidate dropped the key.
    public static func ignoredOverrides(_ user: ValueNode, candidate: ValueNode, locked: ValueNode) -> [IgnoredOverride] {
        var out: [IgnoredOverride] = []
        func walk(_ user: ValueNode, _ defaults: ValueNode, _ locked: ValueNode?, _ path: String) {
            guard let pairs = user.pairs, let defaultPairs = defaults.pairs else { return }
            if defaultPairs.isEmpty && !path.isEmpty { return }   // a mapping the chart leaves open
            for pair in pairs {
                if pair.key == "global" || (path.isEmpty && pair.key == "tags") { continue }
                let childPath = join(path, pair.key)
                if let value = defaults[pair.key] {
                    if pair.value.pairs != nil { walk(pair.value, value, locked?[pair.key], childPath) }
                    continue
                }
                let wasThere = locked?[pair.key] != nil
                let below = leaves(pair.value, path: childPath)
                let reported = below.isEmpty ? [Leaf(path: childPath, value: shown(pair.value), file: pair.value.file, line: pair.value.line)] : below
                for leaf in reported {
                    out.append(IgnoredOverride(path: leaf.path, missing: childPath, file: leaf.file, line: leaf.line, inLocked: wasThere))
                }
            }
        }
        walk(user, candidate, locked, "")
        return out
    }
}
