import ChartSync
import ChartSyncCore

/// `diff` for people: a heading line, then one section per kind of change with `+` (added),
/// `-` (removed), `~` (changed) and `!` (an override the candidate ignores) lines.
enum DiffText {
    /// Values longer than this are shortened with `...`.
    static let maxValueLength = 60

    /// `value` shortened to ``maxValueLength`` characters.
    static func short(_ value: String?) -> String {
        guard let value else { return "(unset)" }
        return value.count <= maxValueLength ? value : String(value.prefix(maxValueLength - 3)) + "..."
    }

    /// The sign of a change.
    static func sign(_ kind: DiffKind) -> String {
        switch kind {
        case .added: return "+"
        case .removed: return "-"
        case .changed: return "~"
        }
    }

    /// The report's lines.
    static func lines(_ diff: ChartDiff) -> [String] {
        var out = ["\(diff.chart): \(diff.from) (locked) -> \(diff.to) (\(diff.candidate.rawValue)) from \(diff.repository), \(diff.candidateSHA256.prefixed) proven"]
        func section(_ title: String, _ body: [String]) {
            out.append(title)
            out += body.isEmpty ? ["  (no changes)"] : body.map { "  " + $0 }
        }
        section("Chart.yaml", diff.metadata.map { change in
            let kind: DiffKind = change.from == nil ? .added : change.to == nil ? .removed : .changed
            switch kind {
            case .added: return "+ \(change.field): \(change.to ?? "")"
            case .removed: return "- \(change.field): \(change.from ?? "")"
            case .changed: return "~ \(change.field): \(change.from ?? "") -> \(change.to ?? "")"
            }
        })
        section("Dependencies", diff.dependencies.map { change in
            func describe(_ info: DependencyInfo) -> String {
                var text = info.chart + (info.version.map { " " + $0 } ?? "")
                if let condition = info.condition { text += " (condition \(condition))" }
                return text
            }
            switch change.kind {
            case .added: return "+ \(change.name): \(describe(change.to!))"
            case .removed: return "- \(change.name): \(describe(change.from!))"
            case .changed:
                let a = change.from!, b = change.to!
                var parts: [String] = []
                if a.chart != b.chart { parts.append("chart \(a.chart) -> \(b.chart)") }
                if a.version != b.version { parts.append("version \(a.version ?? "(unset)") -> \(b.version ?? "(unset)")") }
                if a.condition != b.condition { parts.append("condition \(a.condition ?? "(none)") -> \(b.condition ?? "(none)")") }
                if a.repository != b.repository { parts.append("repository \(a.repository ?? "(none)") -> \(b.repository ?? "(none)")") }
                return "~ \(change.name): " + parts.joined(separator: "; ")
            }
        })
        section("Default values", diff.values.map { change in
            switch change.kind {
            case .added: return "+ \(change.path): \(short(change.to))"
            case .removed: return "- \(change.path): \(short(change.from))"
            case .changed: return "~ \(change.path): \(short(change.from)) -> \(short(change.to))"
            }
        })
        section("Images (default values)", images(diff.images))
        section("Templates", diff.templates.map(file))
        section("CRDs (Helm installs crds/ once and never upgrades it: apply those changes yourself)", diff.crds.map(file))
        if !diff.valuesFiles.isEmpty {
            let names = diff.valuesFiles.joined(separator: ", ")
            section("Overrides \(diff.to) ignores (\(names))", diff.ignoredOverrides.map { override in
                let why = override.inLocked ? "\(override.missing) is gone from the defaults (\(diff.from) has it)"
                    : "\(override.missing) is in neither version's defaults"
                return "! \(override.path) (\(override.file):\(override.line)): \(why)"
            })
            section("Images with \(names)", diff.imagesWithValues.map(images) ?? [])
        }
        return out
    }

    /// Image lines: added, removed, then tag changes.
    static func images(_ changes: ImageChanges) -> [String] {
        changes.added.map { "+ \($0)" } + changes.removed.map { "- \($0)" } + changes.changed.map { "~ \($0.from) -> \($0.to)" }
    }

    /// A file line, with the line counts of a change and, for a file in `crds/`, that
    /// `helm upgrade` does not apply it.
    static func file(_ change: FileChange) -> String {
        var notes: [String] = []
        if change.kind == .changed { notes.append("+\(change.linesAdded) -\(change.linesRemoved) lines") }
        if !change.upgradedByHelm { notes.append("not applied by helm upgrade") }
        return "\(sign(change.kind)) \(change.path)" + (notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ")")
    }
}

/// `diff --json`: every key always present (null when unset), lists possibly empty.
struct DiffSummary: Encodable {
    /// A Chart.yaml field.
    struct Field: Encodable {
        let field: String
        let from: String?
        let to: String?
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(field, forKey: .field)
            try c.encode(from, forKey: .from)
            try c.encode(to, forKey: .to)
        }
        enum CodingKeys: String, CodingKey { case field, from, to }
    }

    /// A dependency on one side.
    struct Dependency: Encodable {
        let chart: String
        let version: String?
        let condition: String?
        let repository: String?
        init(_ info: DependencyInfo) {
            chart = info.chart
            version = info.version
            condition = info.condition
            repository = info.repository
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(chart, forKey: .chart)
            try c.encode(version, forKey: .version)
            try c.encode(condition, forKey: .condition)
            try c.encode(repository, forKey: .repository)
        }
        enum CodingKeys: String, CodingKey { case chart, version, condition, repository }
    }

    /// A dependency change.
    struct DependencyChange: Encodable {
        let name: String
        let change: String
        let from: Dependency?
        let to: Dependency?
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(change, forKey: .change)
            try c.encode(from, forKey: .from)
            try c.encode(to, forKey: .to)
        }
        enum CodingKeys: String, CodingKey { case name, change, from, to }
    }

    /// A default value change.
    struct Value: Encodable {
        let path: String
        let change: String
        let from: String?
        let to: String?
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(change, forKey: .change)
            try c.encode(from, forKey: .from)
            try c.encode(to, forKey: .to)
        }
        enum CodingKeys: String, CodingKey { case path, change, from, to }
    }

    /// Images of both sides and their changes.
    struct Images: Encodable {
        struct Change: Encodable {
            let from: String
            let to: String
        }
        let from: [String]
        let to: [String]
        let added: [String]
        let removed: [String]
        let changed: [Change]
        init(_ changes: ImageChanges) {
            from = changes.from.map(\.description)
            to = changes.to.map(\.description)
            added = changes.added.map(\.description)
            removed = changes.removed.map(\.description)
            changed = changes.changed.map { Change(from: $0.from.description, to: $0.to.description) }
        }
    }

    /// A template or CRD file.
    struct File: Encodable {
        let path: String
        let change: String
        let linesAdded: Int
        let linesRemoved: Int
        let upgradedByHelm: Bool
    }

    /// An override the candidate ignores.
    struct Override: Encodable {
        let path: String
        let missing: String
        let file: String
        let line: Int
        let inLocked: Bool
    }

    let chart: String
    let repository: String
    let from: String
    let to: String
    let candidate: String
    let sha256: String
    let chartYAML: [Field]
    let dependencies: [DependencyChange]
    let values: [Value]
    let images: Images
    let templates: [File]
    let crds: [File]
    let valuesFiles: [String]
    let ignoredOverrides: [Override]
    let imagesWithValues: Images?

    init(_ diff: ChartDiff) {
        chart = diff.chart
        repository = diff.repository
        from = diff.from
        to = diff.to
        candidate = diff.candidate.rawValue
        sha256 = diff.candidateSHA256.prefixed
        chartYAML = diff.metadata.map { Field(field: $0.field, from: $0.from, to: $0.to) }
        dependencies = diff.dependencies.map {
            DependencyChange(name: $0.name, change: $0.kind.rawValue, from: $0.from.map(Dependency.init), to: $0.to.map(Dependency.init))
        }
        values = diff.values.map { Value(path: $0.path, change: $0.kind.rawValue, from: $0.from, to: $0.to) }
        images = Images(diff.images)
        func file(_ change: FileChange) -> File {
            File(path: change.path, change: change.kind.rawValue, linesAdded: change.linesAdded, linesRemoved: change.linesRemoved,
                 upgradedByHelm: change.upgradedByHelm)
        }
        templates = diff.templates.map(file)
        crds = diff.crds.map(file)
        valuesFiles = diff.valuesFiles
        ignoredOverrides = diff.ignoredOverrides.map {
            Override(path: $0.path, missing: $0.missing, file: $0.file, line: $0.line, inLocked: $0.inLocked)
        }
        imagesWithValues = diff.imagesWithValues.map(Images.init)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(chart, forKey: .chart)
        try c.encode(repository, forKey: .repository)
        try c.encode(from, forKey: .from)
        try c.encode(to, forKey: .to)
        try c.encode(candidate, forKey: .candidate)
        try c.encode(sha256, forKey: .sha256)
        try c.encode(chartYAML, forKey: .chartYAML)
        try c.encode(dependencies, forKey: .dependencies)
        try c.encode(values, forKey: .values)
        try c.encode(images, forKey: .images)
        try c.encode(templates, forKey: .templates)
        try c.encode(crds, forKey: .crds)
        try c.encode(valuesFiles, forKey: .valuesFiles)
        try c.encode(ignoredOverrides, forKey: .ignoredOverrides)
        try c.encode(imagesWithValues, forKey: .imagesWithValues)
    }

    enum CodingKeys: String, CodingKey {
        case chart, repository, from, to, candidate, sha256, chartYAML, dependencies, values, images, templates, crds, valuesFiles,
             ignoredOverrides, imagesWithValues
    }
}
