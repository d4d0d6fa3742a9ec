import ChartSyncBasics
import ChartSyncCore
import ChartSyncTemplate

/// The values the project's helmfile releases give the vendored charts, for the image scan.
///
/// The helmfile is the project's own (``HelmfileTree/defaultFile(_:)``: `helmfile.yaml`,
/// `helmfile.yaml.gotmpl` or `helmfile.d/` beside the chart list) read with what it pulls in,
/// never anything outside the project (a bundle could not carry it, so the scan at the site would
/// differ). A release (not `installed: false`) uses a vendored chart when its `chart:` is a local
/// path to the chart's tarball or unpacked directory in charts/external, or a `repo/name` or
/// `oci://.../name` chart of that name in versions.lock (the gate's rule). Its values come as
/// helmfile passes them to Helm: each `values:` entry in order (a file relative to the helmfile
/// file's directory, a glob matching one file, or an inline mapping) as a `-f` file, then each
/// `set:` entry (`name` with `value` or `values`) as `--set`. What needs helmfile to render or
/// decrypt it is not guessed but reported: `.gotmpl` files, paths and inline values holding
/// template actions, `valuesTemplate`/`setTemplate`, `secrets:`, `set:` with `file:` or a list
/// index. Reads files only; silent.
struct HelmfileReleaseValues {
    /// One release of a vendored chart and the values it gives.
    struct Release {
        /// The release's name.
        let name: String
        /// The helmfile file it is in, relative to the project root.
        let file: String
        /// Its line.
        let line: Int
        /// The versions.lock entry of its chart.
        let chart: String
        /// Its values files and inline values, in `-f` order: bytes and the name sources give them.
        let documents: [(bytes: [UInt8], name: String)]
        /// Its `set:` entries as values layers, in order.
        let sets: [ValueNode]
    }

    /// The releases of vendored charts that give values chartsync applies, in helmfile order.
    private(set) var releases: [Release] = []
    /// What was not applied, and why, in helmfile order.
    private(set) var warnings: [ImageWarning] = []
    /// Every file of the helmfile inside the project that exists as a regular file: the helmfile
    /// files read, and the environment and release values and secrets files they name (globs
    /// expanded), relative to the root, in the order met. The bundle carries them when the scan
    /// used the helmfile, so that the scan and the gate at the site read what was read here.
    private(set) var files: [String] = []

    /// Reads the project's helmfile, if it has one, against `lock`.
    init(layout: ProjectLayout, lock: Lockfile) {
        guard let helmfile = HelmfileTree.defaultFile(layout) else { return }
        let root = HelmfileTree.normalize(layout.root)
        let tree = HelmfileTree(layout: layout, helmfile: helmfile, insideOnly: true)
        var seen = Set<String>()
        func carry(_ absolute: String) {
            let path = HelmfileTree.relative(absolute, root: root)
            guard path != "..", !path.hasPrefix("../"), FileSystem.isRegularFile(absolute), !FileSystem.isSymlink(absolute),
                  seen.insert(path).inserted else { return }
            files.append(path)
        }
        for document in tree.documents {
            carry(document.path)
            let directory = document.directory
            func resolve(_ path: String) -> [String] {
                let target = HelmfileTree.normalize(path.hasPrefix("/") ? path : directory + "/" + path)
                return path.contains(where: { "*?[".contains($0) }) ? HelmfileTree.glob(target).map(HelmfileTree.normalize) : [target]
            }
            for skipped in document.skipped where skipped.reason == .outside {
                warn(chart: nil, file: document.file, line: skipped.line,
                     "\(skipped.what) \(skipped.path) is outside the project; the image scan does not read it (a bundle cannot carry it)")
            }
            for reference in document.helmfile.files where !Helmfile.isTemplated(reference.path) && !HelmfileTree.isRemote(reference.path) {
                switch reference.kind {
                case .environment, .release: resolve(reference.path).forEach(carry)
                case .helmfile, .base: continue
                }
            }
            for release in document.helmfile.releases where !release.uninstalled {
                read(release, document: document, root: root, lock: lock, resolve: resolve)
            }
        }
    }

    /// The releases of the chart locked as `name`.
    func releases(of name: String) -> [Release] { releases.filter { $0.chart == name } }

    private mutating func warn(chart: String?, file: String, line: Int, _ message: String) {
        warnings.append(ImageWarning(chart: chart ?? "helmfile", file: file, line: line, key: nil, message: message))
    }

    /// The versions.lock entry a release's chart is, or nil (not vendored, custom, a template).
    static func entry(of release: Helmfile.Release, directory: String, root: String, lock: Lockfile) -> Lockfile.Entry? {
        switch release.source(pathExists: { FileSystem.exists(directory + "/" + $0) }) {
        case .local(let path)?:
            let target = HelmfileTree.normalize(path.hasPrefix("/") ? path : directory + "/" + path)
            let relative = HelmfileTree.relative(target, root: root)
            let external = "charts/external/"
            guard relative.hasPrefix(external) else { return nil }
            let name = String(relative.dropFirst(external.count))
            switch try? FileSystem.type(of: target) {
            case .regular?: return lock.entries.first { $0.fileName == name }
            case .directory?: return lock.entries.first { $0.tree != nil && $0.directoryName == name }
            default: return nil
            }
        case .repository(_, let chart)?:
            return lock.entry(named: String(chart.split(separator: "/").last ?? ""))
        case .url(let reference)? where reference.lowercased().hasPrefix("oci://"):
            var name = String(reference.split(separator: "/").last ?? "")
            if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
            if let colon = name.firstIndex(of: ":") { name = String(name[..<colon]) }
            return lock.entry(named: name)
        default:
            return nil
        }
    }

    /// Takes one release's values when its chart is vendored.
    private mutating func read(_ release: Helmfile.Release, document: HelmfileTree.Document, root: String, lock: Lockfile,
                               resolve: (String) -> [String]) {
        let givesValues = !release.values.isEmpty || !release.secrets.isEmpty || !release.set.isEmpty || !release.templatedValueKeys.isEmpty
        guard givesValues else { return }
        let file = document.file
        let subject = "release \(release.name)"
        if release.source(pathExists: { FileSystem.exists(document.directory + "/" + $0) }) == .template {
            warn(chart: nil, file: file, line: release.chartLine,
                 "\(subject): its chart is a template, so which chart its values are for is not known; they are not applied")
            return
        }
        guard let entry = Self.entry(of: release, directory: document.directory, root: root, lock: lock) else { return }
        let chart = entry.name + " " + entry.version
        var documents: [(bytes: [UInt8], name: String)] = []
        var sets: [ValueNode] = []
        for value in release.values {
            switch value {
            case .file(let path, let line):
                if Helmfile.isTemplated(path) {
                    warn(chart: chart, file: file, line: line, "\(subject): values file \(path) is a template helmfile renders; not applied")
                    continue
                }
                if HelmfileTree.isRemote(path) {
                    warn(chart: chart, file: file, line: line, "\(subject): values file \(path) is remote; not applied (the scan is offline)")
                    continue
                }
                let matches = resolve(path)
                if path.contains(where: { "*?[".contains($0) }), matches.count > 1 {
                    warn(chart: chart, file: file, line: line,
                         "\(subject): values pattern \(path) matches \(matches.count) files, which helmfile refuses; not applied")
                    continue
                }
                guard let target = matches.first, FileSystem.isRegularFile(target), !FileSystem.isSymlink(target) else {
                    if !release.toleratesMissingFiles {
                        warn(chart: chart, file: file, line: line, "\(subject): values file \(path) is not there (or not a regular file); not applied")
                    }
                    continue
                }
                let shown = HelmfileTree.relative(target, root: root)
                if shown == ".." || shown.hasPrefix("../") {
                    warn(chart: chart, file: file, line: line,
                         "\(subject): values file \(path) is outside the project; not applied (a bundle cannot carry it)")
                    continue
                }
                if target.hasSuffix(".gotmpl") {
                    warn(chart: chart, file: file, line: line,
                         "\(subject): values file \(path) is a template helmfile renders with its environment; not applied")
                    continue
                }
                guard let bytes = try? FileSystem.readFile(target) else {
                    warn(chart: chart, file: file, line: line, "\(subject): values file \(path) cannot be read; not applied")
                    continue
                }
                documents.append((bytes, shown))
            case .inline(let text, let line, let templated):
                if templated {
                    warn(chart: chart, file: file, line: line, "\(subject): inline values hold a template helmfile renders; not applied")
                    continue
                }
                // Padded so that what the values give is named at the entry's line.
                documents.append((Array(String(repeating: "\n", count: max(0, line - 1)).utf8) + Array(text.utf8), file))
            case .invalid(let line):
                warn(chart: chart, file: file, line: line, "\(subject): a values entry that is neither a path nor a mapping; not applied")
            }
        }
        for secret in release.secrets {
            warn(chart: chart, file: file, line: secret.line,
                 "\(subject): secrets are decrypted by helm-secrets at deploy time; not applied (images they switch on are not listed)")
        }
        for set in release.set {
            let name = set.name ?? ""
            guard !set.templated else {
                warn(chart: chart, file: file, line: set.line, "\(subject): set \(name) holds a template helmfile renders; not applied")
                continue
            }
            let layer: ValueNode?
            switch set.value {
            case .value(let text):
                if text.isEmpty { continue }   // helmfile passes no --set for an empty value
                layer = HelmSet.layer(name: name, value: text, file: file, line: set.line)
            case .values(let items):
                layer = HelmSet.layer(name: name, values: items, file: file, line: set.line)
            case .file(let path):
                warn(chart: chart, file: file, line: set.line, "\(subject): set \(name) takes the content of \(path) (--set-file); not applied")
                continue
            case .none:
                continue
            }
            guard let layer else {
                warn(chart: chart, file: file, line: set.line,
                     "\(subject): set \(name) has an empty key or a list index, which chartsync does not follow; not applied")
                continue
            }
            sets.append(layer)
        }
        for key in release.templatedValueKeys {
            warn(chart: chart, file: file, line: key.line, "\(subject): \(key.key) is rendered by helmfile; not applied")
        }
        if documents.isEmpty && sets.isEmpty { return }
        releases.append(Release(name: release.name, file: file, line: release.line, chart: entry.name, documents: documents, sets: sets))
    }
}
