import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex

/// A chart list `chartsync init` is about to write: its text (read back and valid), what it
/// holds, and notes on what it left out or could not decide.
public struct ChartListDraft: Sendable {
    /// The chart-list text.
    public let text: String
    /// The list it parses to.
    public let list: ChartList
    /// What was left out, and why (for stderr).
    public let notes: [String]
}

/// Why `chartsync init` wrote nothing.
public enum InitError: ChartSyncFailure, CustomStringConvertible {
    /// The chart list exists already; init never overwrites it.
    case exists(String)
    /// The helmfile cannot be read, or is not static YAML chartsync can draft from (line 0: the
    /// whole file).
    case helmfile(path: String, line: Int, message: String)
    /// The list made from the helmfile does not read back (a value chartsync refuses).
    case invalid(ChartListError)
    /// Writing failed.
    case fileSystem(FileSystemError)

    public var kind: FailureKind {
        switch self {
        case .exists, .helmfile, .invalid: return .input
        case .fileSystem: return .io
        }
    }

    public var description: String {
        switch self {
        case .exists(let path): return "\(path) exists; chartsync init never overwrites a chart list (remove it, or write another with -f)"
        case .helmfile(let path, let line, let message): return line > 0 ? "\(path): line \(line): \(message)" : "\(path): \(message)"
        case .invalid(let error): return "the chart list made from the helmfile is not valid: \(error.description)"
        case .fileSystem(let error): return error.description
        }
    }
}

/// Drafts the chart list a project starts with: the commented example, or one made from a
/// helmfile's static YAML (`repositories:`, `releases:`, and the files it names for
/// `bundle.include`), and writes it only where no chart list is.
public struct ChartListDrafter: Sendable {
    /// The chart list to write (absolute); its directory is the project root.
    public let chartList: String

    /// A drafter for the chart list at `chartList`.
    public init(chartList: String) {
        self.chartList = chartList
    }

    /// The commented example.
    public func example() throws(InitError) -> ChartListDraft {
        do {
            let bytes = Array(ChartListWriter.example.utf8)
            return ChartListDraft(text: ChartListWriter.example, list: try ChartListReader.parse(bytes, source: chartList), notes: [])
        } catch {
            throw .invalid(error)
        }
    }

    /// A chart list from the helmfile at `helmfilePath` (absolute): each `repo/chart` release's
    /// chart with its repository and version constraint (releases of one chart merged), the
    /// repositories they use (`oci: true` ones as `oci://` URLs), and `bundle.include` with the
    /// helmfile and the files it names that exist under the project root. Local charts, templates,
    /// conflicting duplicates and files outside the project are left out with a note.
    public func fromHelmfile(_ helmfilePath: String) throws(InitError) -> ChartListDraft {
        let helmfile: Helmfile
        do {
            helmfile = try HelmfileReader.read(path: helmfilePath)
        } catch {
            throw .helmfile(path: helmfilePath, line: 0, message: error.message)
        }
        // A draft is made from static YAML: a helmfile whose YAML its templates make is refused.
        let actionLines = helmfile.templates.map(\.line).reduce(into: [Int]()) { if $0.last != $1 { $0.append($1) } }
        if let problem = helmfile.invalidAsWritten {
            let near = actionLines.last { $0 <= problem.line } ?? actionLines[0]
            throw .helmfile(path: helmfilePath, line: problem.line, message: "does not parse as YAML (\(problem.message)); it "
                + "holds Go templates, which chartsync does not render (line \(near)"
                + (actionLines.count > 1 ? "; all on lines " + actionLines.map(String.init).joined(separator: ", ") : "") + ")")
        }
        if let problem = helmfile.invalid.first {
            throw .helmfile(path: helmfilePath, line: problem.line, message: "not a helmfile chartsync reads: \(problem.message)")
        }
        let shown = FileSystem.baseName(helmfilePath)
        var notes: [String] = []
        func note(_ line: Int, _ text: String) { notes.append("\(shown): line \(line): \(text)") }
        for line in Set(helmfile.templates.filter { $0.reason != nil }.map(\.line)).sorted() {
            note(line, "holds a Go template, which chartsync does not render; check by hand what it stands for")
        }

        // Repositories: the first of a name wins.
        var repositories: [String: Helmfile.Repository] = [:]
        for repository in helmfile.repositories {
            if let first = repositories[repository.name] {
                if first.chartListURL != repository.chartListURL {
                    note(repository.line, "repository \"\(repository.name)\" is listed again with another url; keeping line \(first.line)'s")
                }
                continue
            }
            repositories[repository.name] = repository
        }

        var list = ChartList(repositories: [], charts: [])
        var chartNotes: [String: String] = [:]
        var firstRelease: [String: Helmfile.Release] = [:]
        let helmfileDirectory = FileSystem.parent(of: helmfilePath)
        for release in helmfile.releases {
            let name = release.name
            if release.uninstalled {
                note(release.line, "release \(name) is installed: false (helmfile removes it); left out")
                continue
            }
            switch release.source(pathExists: { FileSystem.exists(helmfileDirectory + "/" + $0) }) {
            case nil:
                if !release.inheritsUnknown { note(release.line, "release \(name) has no chart:; left out") }
                continue
            case .template?:
                note(release.line, "release \(name): the chart is a Go template; left out")
                continue
            case .local(let path)?:
                note(release.line, "release \(name): local chart \(path) is not pulled; left out (charts/custom or a vendored unpacked chart)")
                continue
            case .url(let reference)?:
                note(release.line, "release \(name): \(reference) names no repository; add its registry path as an oci:// repository by hand")
                continue
            case .repository(let repositoryName, let chartName)?:
                guard let repository = repositories[repositoryName] else {
                    note(release.line, "release \(name): repository \"\(repositoryName)\" is not in repositories:; left out")
                    continue
                }
                guard !Helmfile.isTemplated(repository.url) else {
                    note(release.line, "release \(name): the url of repository \"\(repositoryName)\" is a Go template; left out")
                    continue
                }
                if let version = release.version, Helmfile.isTemplated(version) {
                    note(release.line, "release \(name): the version is a Go template; left out")
                    continue
                }
                guard ChartName.isValid(chartName) else {
                    note(release.line, "release \(name): \"\(chartName)\" is not a valid chart name; left out")
                    continue
                }
                if let version = release.version, (try? VersionConstraint(parsing: version)) == nil {
                    note(release.line, "release \(name): version \"\(version)\" is not a constraint chartsync reads; left out")
                    continue
                }
                if let first = firstRelease[chartName] {
                    guard let existing = list.charts.first(where: { $0.name == chartName }),
                          existing.repository == repositoryName, existing.version == release.version else {
                        note(release.line, "release \(name): chart \(chartName) differs from release \(first.name)'s (line \(first.line): "
                             + "another repository or version); a chart list vendors one version of a chart: keeping line \(first.line)'s")
                        continue
                    }
                    chartNotes[chartName, default: ""] += ", \(name) (line \(release.line))"
                    continue
                }
                firstRelease[chartName] = release
                list.charts.append(ChartList.Chart(name: chartName, repository: repositoryName, version: release.version))
                chartNotes[chartName] = "release \(name) (line \(release.line))"
                if !list.repositories.contains(where: { $0.name == repositoryName }) {
                    list.repositories.append(ChartList.Repository(name: repositoryName, url: repository.chartListURL))
                }
            }
        }
        for repository in helmfile.repositories where !list.repositories.contains(where: { $0.name == repository.name })
            && repositories[repository.name]?.line == repository.line {
            note(repository.line, "repository \"\(repository.name)\" is used by no release chartsync pulls; left out")
        }

        // bundle.include: the helmfile, then the files it names, relative to the chart list.
        let root = FileSystem.parent(of: chartList)
        var include: [String] = []
        func add(_ path: String, line: Int, what: String) {
            guard !Helmfile.isTemplated(path) else {
                note(line, "\(what) \(path) is a Go template; not included")
                return
            }
            guard !path.contains("://") && !path.contains("::") else {
                note(line, "\(what) \(path) is remote; not included")
                return
            }
            guard let relative = Self.relative(path.hasPrefix("/") ? path : helmfileDirectory + "/" + path, to: root) else {
                note(line, "\(what) \(path) is outside the project (\(root)); not included")
                return
            }
            let isGlob = relative.contains("*") || relative.contains("?")
            guard isGlob || FileSystem.exists(root + "/" + relative) else {
                note(line, "\(what) \(path) does not exist; not included")
                return
            }
            guard (try? IncludePattern(parsing: relative)) != nil else {
                note(line, "\(what) \(path) cannot be a bundle.include entry; not included")
                return
            }
            if !include.contains(relative) { include.append(relative) }
        }
        add(helmfilePath, line: 1, what: "the helmfile")
        for file in helmfile.files { add(file.path, line: file.line, what: file.key) }
        for text in include {
            if let pattern = try? IncludePattern(parsing: text) { list.bundle.include.append(.init(pattern: pattern, line: 0)) }
        }

        let text = ChartListWriter.text(list, header: [
            "chartsync chart list, written by `chartsync init --from-helmfile \(shown)`.",
            "`chartsync pull` vendors these charts into charts/external; `chartsync bundle` carries them",
            "and the files under bundle.include to the site. Every field is described in chartsync's README.",
        ], notes: chartNotes)
        do {
            return ChartListDraft(text: text, list: try ChartListReader.parse(Array(text.utf8), source: chartList), notes: notes)
        } catch {
            throw .invalid(error)
        }
    }

    /// Refuses when a chart list (or anything, a link included) is at the path already.
    public func checkAbsent() throws(InitError) {
        if FileSystem.exists(chartList) { throw .exists(chartList) }
    }

    /// Writes the draft where no chart list is (a link counts as one), never replacing a file
    /// that appears meanwhile.
    public func write(_ draft: ChartListDraft) throws(InitError) {
        if FileSystem.exists(chartList) { throw .exists(chartList) }
        let created: Bool
        do {
            created = try FileSystem.createExclusively(Array(draft.text.utf8), at: chartList)
        } catch {
            throw .fileSystem(error)
        }
        guard created else { throw .exists(chartList) }
    }

    /// `path` (absolute) relative to `root`, `.` and `..` resolved by name; nil when outside it.
    static func relative(_ path: String, to root: String) -> String? {
        func normalized(_ text: String) -> [String] {
            var parts: [String] = []
            for part in text.split(separator: "/") {
                if part == "." { continue }
                if part == ".." { _ = parts.popLast() } else { parts.append(String(part)) }
            }
            return parts
        }
        let full = normalized(path), base = normalized(root)
        guard full.count > base.count, Array(full.prefix(base.count)) == base else { return nil }
        return full.dropFirst(base.count).joined(separator: "/")
    }
}
