import ChartSyncArchive
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTemplate

/// A dependency as Chart.yaml (or, for apiVersion v1 charts, requirements.yaml) lists it.
struct DependencySpec: Sendable {
    /// The chart name.
    let name: String
    /// The alias it is installed under, if any.
    let alias: String?
    /// The `condition` text: comma-separated values paths, the first that holds a boolean decides.
    let condition: String?
    /// The `tags`.
    let tags: [String]
    /// The version constraint, as written.
    var version: String? = nil
    /// The repository, as written.
    var repository: String? = nil

    /// The key of its values section and its instance name.
    var instanceName: String { alias ?? name }
}

/// One chart read from a tarball: metadata, dependencies, default values, templates, subcharts.
final class LoadedChart: Sendable {
    /// Its files.
    let files: ChartFiles
    /// Its Chart.yaml.
    let metadata: ChartMetadata
    /// Its dependencies (requirements.yaml's when present, as Helm reads them).
    let dependencies: [DependencySpec]
    /// The file dependencies were read from.
    let dependencyFile: String
    /// Its values.yaml (an empty mapping when there is none).
    let values: ValueNode
    /// Its parsed templates by path relative to the chart (`templates/deployment.yaml`), and the
    /// parse errors of those that could not be parsed.
    let templates: [(relative: String, template: GoTemplate)]
    /// Templates that could not be parsed: relative path, line, message.
    let templateErrors: [(relative: String, line: Int, message: String)]
    /// The charts under `charts/`.
    let subcharts: [LoadedChart]

    /// Reads a chart and its subcharts from `files`; `tarball` names the tarball in errors.
    init(files: ChartFiles, tarball: String, yamlLimits: YAMLLimits) throws(ImageScanError) {
        self.files = files
        func source(_ relative: String) -> String { tarball + ": " + files.entryName(relative) }
        guard let chartYAML = files.files["Chart.yaml"] else {
            throw .invalidChart(tarball: tarball, file: files.entryName("Chart.yaml"), message: "missing")
        }
        do throws(YAMLError) {
            metadata = try ChartMetadata(chartYAML: chartYAML, source: source("Chart.yaml"))
            var dependencyNode = try YAMLDocument.load(chartYAML, source: source("Chart.yaml"), limits: yamlLimits)?["dependencies"]
            var dependencyFile = files.entryName("Chart.yaml")
            if let requirements = files.files["requirements.yaml"] {
                dependencyNode = try YAMLDocument.load(requirements, source: source("requirements.yaml"), limits: yamlLimits)?["dependencies"]
                dependencyFile = files.entryName("requirements.yaml")
            }
            self.dependencyFile = dependencyFile
            dependencies = try LoadedChart.dependencies(dependencyNode, source: tarball + ": " + dependencyFile)
            if let bytes = files.files["values.yaml"], let node = try YAMLDocument.load(bytes, source: source("values.yaml"), limits: yamlLimits) {
                values = ValueNode(node, file: files.entryName("values.yaml"))
            } else {
                values = .emptyMap(file: files.entryName("values.yaml"))
            }
        } catch {
            throw .yaml(error)
        }
        guard values.pairs != nil else {
            throw .invalidChart(tarball: tarball, file: files.entryName("values.yaml"), message: "the values are not a mapping (line \(values.line))")
        }
        var templates: [(String, GoTemplate)] = []
        var errors: [(String, Int, String)] = []
        for (relative, bytes) in files.files.sorted(by: { $0.key < $1.key }) where relative.hasPrefix("templates/") {
            do throws(GoTemplate.ParseError) {
                templates.append((relative, try GoTemplate(bytes: bytes)))
            } catch {
                errors.append((relative, error.line, error.message))
            }
        }
        self.templates = templates
        templateErrors = errors
        var subcharts: [LoadedChart] = []
        for sub in files.subcharts { subcharts.append(try LoadedChart(files: sub, tarball: tarball, yamlLimits: yamlLimits)) }
        self.subcharts = subcharts
    }

    /// Reads a `dependencies:` list.
    static func dependencies(_ node: YAMLNode?, source: String) throws(YAMLError) -> [DependencySpec] {
        guard let node, !node.isNull else { return [] }
        var out: [DependencySpec] = []
        for item in try IndexFields(node, path: "dependencies", source: source).list() {
            var name = "", alias: String?, condition: String?, tags: [String] = [], version: String?, repository: String?
            for (key, value) in try item.pairs() {
                switch key {
                case "name": name = try value.string() ?? ""
                case "alias": alias = try value.string()
                case "condition": condition = try value.string()
                case "tags": tags = try value.strings()
                case "version": version = (try? value.string()) ?? nil   // lenient: the scan never needed it
                case "repository": repository = (try? value.string()) ?? nil
                default: break
                }
            }
            guard !name.isEmpty else { throw item.error("a dependency has no name") }
            out.append(DependencySpec(name: name, alias: alias?.isEmpty == true ? nil : alias, condition: condition, tags: tags,
                                      version: version, repository: repository))
        }
        return out
    }
}

/// A chart as installed: a loaded chart under an instance name, with the values Helm computes
/// for it and its enabled subchart instances.
struct ChartInstance: Sendable {
    /// The chart.
    let chart: LoadedChart
    /// Instance names from the top chart down to this one.
    let path: [String]
    /// The values Helm computes with default values (parent's section over the chart's own
    /// values.yaml, globals passed down), including its subcharts' sections.
    let values: ValueNode
    /// The enabled subchart instances.
    let children: [ChartInstance]
    /// The instance names of all its subcharts, enabled or not (their sections are theirs).
    let subchartKeys: Set<String>

    /// `argo-ci > argo 0.1.0`, for warnings.
    var label: String { path.joined(separator: " > ") + " " + chart.metadata.version }
}

/// Builds the instance tree of a chart with Helm's rules for default values.
struct ChartTreeBuilder {
    /// Warnings met while deciding which subcharts are on (non-boolean conditions, missing subcharts).
    var warnings: [ImageWarning] = []
    /// Subcharts that are off.
    var disabled: [DisabledSubchart] = []

    /// The subcharts of `chart` as Helm pairs them with its dependencies: each dependency with the
    /// chart of that name in `charts/` (an aliased dependency gets its own instance), then the
    /// charts in `charts/` no dependency names (always on).
    mutating func pairs(of chart: LoadedChart, label: String, warn: Bool) -> [(LoadedChart, DependencySpec?)] {
        var out: [(LoadedChart, DependencySpec?)] = []
        var used = Set<Int>()
        for dependency in chart.dependencies {
            guard let index = chart.subcharts.firstIndex(where: { $0.metadata.name == dependency.name }) else {
                if warn { warnings.append(ImageWarning(
                    chart: label, file: chart.dependencyFile, line: nil, key: nil,
                    message: "dependency \(Quoting.doubleQuoted(dependency.name)) is not in charts/, so its images are not listed (Helm refuses to install the chart so)")) }
                continue
            }
            used.insert(index)
            out.append((chart.subcharts[index], dependency))
        }
        for (index, sub) in chart.subcharts.enumerated() where !used.contains(index) { out.append((sub, nil)) }
        return out
    }

    /// The values of `chart` with `section` (what its parent holds under its name) over its own
    /// values.yaml, then its subcharts' sections computed the same way (Helm's coalesce and
    /// coalesceDeps). Returns the values and the subchart list used.
    mutating func values(of chart: LoadedChart, section: ValueNode, label: String) -> (ValueNode, [(LoadedChart, DependencySpec?)]) {
        var values = ValueCoalescing.coalesce(section, over: chart.values)
        let subs = pairs(of: chart, label: label, warn: false)
        for (sub, dependency) in subs {
            let name = dependency?.instanceName ?? sub.metadata.name
            switch ValueCoalescing.subchartSection(name, of: values, emptyFile: chart.files.entryName("values.yaml")) {
            case .notAMapping(let own):
                warnings.append(ImageWarning(chart: label, file: own.file, line: own.line, key: name,
                                             message: "the subchart's values section is not a mapping; its own defaults are used"))
            case .section(let own):
                let (computed, _) = self.values(of: sub, section: own, label: label + " > " + name)
                values.set(name, computed)
            }
        }
        return (values, subs)
    }

    /// The instance of `chart` named `path` whose computed values are `values`, with its enabled
    /// subcharts; `tags` are the top chart's `tags:` values.
    mutating func instance(of chart: LoadedChart, path: [String], values: ValueNode, tags: ValueNode?) -> ChartInstance {
        let label = path.joined(separator: " > ") + " " + chart.metadata.version
        let subs = pairs(of: chart, label: label, warn: true)
        var children: [ChartInstance] = []
        var keys = Set<String>()
        for (sub, dependency) in subs {
            let name = dependency?.instanceName ?? sub.metadata.name
            keys.insert(name)
            if let dependency, let reason = offReason(dependency, values: values, tags: tags, label: label) {
                disabled.append(DisabledSubchart(path: path + [name], chart: sub.metadata.name, version: sub.metadata.version, reason: reason))
                continue
            }
            let subValues = values[name] ?? .emptyMap(file: sub.files.entryName("values.yaml"))
            children.append(instance(of: sub, path: path + [name], values: subValues, tags: tags))
        }
        return ChartInstance(chart: chart, path: path, values: values, children: children, subchartKeys: keys)
    }

    /// Why a dependency is off with these values, or nil when it is on (Helm's
    /// processDependencyTags, then processDependencyConditions, which wins when it decides).
    mutating func offReason(_ dependency: DependencySpec, values: ValueNode, tags: ValueNode?, label: String) -> String? {
        var enabled = true
        var reason: String?
        if !dependency.tags.isEmpty, let tags, tags.pairs != nil {
            var trueTag: String?, falseTag: String?
            for tag in dependency.tags {
                guard let value = tags[tag] else { continue }
                if case .bool(let on)? = value.scalarType {
                    if on { trueTag = trueTag ?? tag } else { falseTag = falseTag ?? tag }
                } else {
                    warnings.append(ImageWarning(chart: label, file: value.file, line: value.line, key: "tags." + tag,
                                                 message: "tag for dependency \(Quoting.doubleQuoted(dependency.name)) is not a boolean; Helm ignores it"))
                }
            }
            if trueTag == nil, let falseTag {
                enabled = false
                reason = "tag \(falseTag) is false"
            }
        }
        if let condition = dependency.condition {
            for path in condition.split(separator: ",").map({ String($0).trimmingSpaces }) where !path.isEmpty {
                guard let value = values.at(path) else { continue }
                if case .bool(let on)? = value.scalarType {
                    enabled = on
                    reason = on ? nil : "condition \(path) is false"
                    break
                }
                warnings.append(ImageWarning(chart: label, file: value.file, line: value.line, key: path,
                                             message: "condition for dependency \(Quoting.doubleQuoted(dependency.name)) is not a boolean; Helm ignores it"))
            }
        }
        return enabled ? nil : reason
    }
}
