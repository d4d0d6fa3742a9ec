import ChartSyncArchive
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTemplate

/// Finds the container images a chart tarball uses with its default values, without rendering it.
/// Silent: it returns what it found and never prints.
///
/// How images are found (for the chart and each enabled subchart):
///
/// 1. **Values as Helm computes them.** Each chart's values.yaml; for a subchart, the parent's
///    section under the subchart's name (or alias) over the subchart's values.yaml, and the
///    parent's `global:` over the subchart's (Helm's coalescing: mappings merge, the parent wins,
///    a null removes a key). Dependencies come from Chart.yaml, or requirements.yaml when the chart
///    has one (apiVersion v1). A dependency whose `tags` are all false (no true one), or whose
///    `condition` (the first of its comma-separated paths that holds a boolean) is false, is off:
///    it is listed in ``ImageScan/disabledSubcharts`` and nothing of it is scanned. Charts in
///    `charts/` that no dependency names are on, as in Helm.
/// 2. **Templates.** Every template file (not `_*` partials, not NOTES.txt) is walked from its top
///    with those values. `if`/`else if`/`with` conditions and `range` over empty lists are
///    evaluated when they only need values, `.Chart` and simple functions; a condition that needs
///    more (`.Release`, `.Capabilities`, lookups...) counts as true. `include`/`template` of a named
///    template (from any chart of the tree, Helm's precedence) is followed. Every line that sets a
///    YAML key `image` or `<name>Image` (`initImage`, `executorImage`) to a value on that line is
///    read: a literal value is taken as written; a value with template actions is rendered when it
///    only uses `.Values`, `.Chart`, variables, named templates and `default`, `printf`, `print`,
///    `quote`, `squote`, `toString`, `trim`, `trimPrefix`, `trimSuffix`, `replace`, `lower`,
///    `upper`, `required`, `coalesce`, `ternary`, `eq`, `ne`, `not`, `and`, `or`, `empty`,
///    `hasKey`. Images on lines that are off with default values are reported as unused.
/// 3. **Values conventions.** Every key of the values (except `global` and the subcharts'
///    sections) named `image` or `<name>Image` whose value is
///    - a string: an image reference; without a tag or digest it takes a sibling `<key>Tag`
///      (or `tag` beside `image`) when there is one;
///    - a mapping with `repository` (or `name`, or `image`) and optional `registry`, `tag`,
///      `digest`: `registry/repository:tag@digest`. A non-empty `global.imageRegistry` replaces the
///      registry (Bitnami's convention). An empty or missing tag is the appVersion of the chart
///      whose values they are (the convention `image.tag | default .Chart.AppVersion`), unless a
///      digest is given; with neither tag nor appVersion the image is not listed and a warning says so.
///    Strings are taken as written. Helm decodes an unquoted number as a float and renders 1.10
///    as 1.1 and 20230101 as 2.0230101e+07: that is what the cluster pulls, so that is what is
///    listed (an invalid result is a warning), with a warning saying the chart should quote it
///    (the same for numbers a template line renders). An image whose mapping (or a mapping above
///    it) holds `enabled: false` is unused.
/// 4. **Reconciling.** Templates decide where they can be followed: a values image read by a
///    template line that rendered replaces it (the template's result is listed); one read only by
///    lines that are off is unused; one read by a line that could not be rendered is listed from the
///    values. Values images no template line reads are listed as they are.
/// 5. **Warnings, not guesses.** A value containing `{{` (meant for `tpl`), a value or a rendered
///    line that is not a valid image reference, a tag that defaults to a missing appVersion, and an
///    `image:` line that could not be rendered and reads no values image (a helper called with a
///    `dict`, `.Release`-built names, `tpl`) are warnings naming the chart, file, line and key.
///
/// Images are deduplicated per chart and sorted by their normalized text (``ImageReference``).
/// The tarball is read in memory with the extraction rules and limits (``ChartFiles``); a values
/// file over the per-file limit or YAML over the alias and depth limits is an error naming the file.
public struct ImageScanner: Sendable {
    /// Size and entry limits for reading the tarball (Helm's defaults).
    public var limits: ExtractionLimits
    /// Limits for every YAML file read (nesting depth, alias expansion).
    public var yamlLimits: YAMLLimits
    /// How many levels of subcharts (archives or directories in `charts/`) below the chart are read.
    public var maxNesting: Int

    /// Creates a scanner.
    public init(limits: ExtractionLimits = .init(), yamlLimits: YAMLLimits = .init(), maxNesting: Int = 8) {
        self.limits = limits
        self.yamlLimits = yamlLimits
        self.maxNesting = maxNesting
    }

    /// Scans the chart tarball at `tarball`; `values` are the user's values (``userValues(_:)``,
    /// what `helm template -f` gives), applied over the chart's defaults as Helm applies them.
    public func scan(tarball: String, values: ValueNode? = nil) throws(ImageScanError) -> ImageScan {
        let files: ChartFiles
        do throws(ArchiveError) { files = try ChartFiles.read(tarball: tarball, limits: limits, maxNesting: maxNesting) } catch { throw .archive(error) }
        return try scan(files: files, tarball: tarball, values: values)
    }

    /// Scans a chart already read into memory; `tarball` names it in messages; `values` as for
    /// ``scan(tarball:values:)``.
    public func scan(files: ChartFiles, tarball: String, values userValues: ValueNode? = nil) throws(ImageScanError) -> ImageScan {
        let top = try LoadedChart(files: files, tarball: tarball, yamlLimits: yamlLimits)
        var builder = ChartTreeBuilder()
        // The user's values are the top chart's section: coalesced over its values.yaml (a null
        // deletes a default), their subchart sections and globals flowing down as Helm's do.
        let root = userValues ?? ValueNode.emptyMap(file: files.entryName("values.yaml"))
        let (values, _) = builder.values(of: top, section: root, label: top.metadata.name)
        let instance = builder.instance(of: top, path: [top.metadata.name], values: values, tags: values["tags"])

        var instances: [ChartInstance] = []
        func collect(_ node: ChartInstance) {
            instances.append(node)
            node.children.forEach(collect)
        }
        collect(instance)
        let defines = Self.defines(of: instances)
        var linesByFile: [String: [ImageLine]] = [:]
        for node in instances {
            for (relative, bytes) in node.chart.files.files where relative.hasPrefix("templates/") {
                let file = node.chart.files.entryName(relative)
                if linesByFile[file] == nil { linesByFile[file] = ImageLine.find(in: bytes) }
            }
        }
        let found = instances.map { self.lines(of: $0, defines: defines, linesByFile: linesByFile) }
        var charts: [ChartImages] = []
        for (index, node) in instances.enumerated() {
            charts.append(scan(node, lines: found[index], readers: Self.readers(of: index, instances: instances, lines: found),
                               extraWarnings: index == 0 ? builder.warnings : []))
        }
        return ImageScan(tarball: tarball, charts: charts, disabledSubcharts: builder.disabled)
    }

    /// The template context of an instance: its values and Chart.yaml (named as the instance, as
    /// Helm renames an aliased subchart), its enabled subcharts' contexts (`.Subcharts`), the
    /// tree's named templates.
    static func context(of instance: ChartInstance, defines: [String: DefinedTemplate]) -> TemplateContext {
        var metadata = instance.chart.metadata
        if instance.path.count > 1, let name = instance.path.last { metadata.name = name }
        var subcharts: [String: TemplateContext] = [:]
        for child in instance.children {
            if let name = child.path.last { subcharts[name] = context(of: child, defines: defines) }
        }
        return TemplateContext(values: instance.values, metadata: metadata, defines: defines, subcharts: subcharts)
    }

    /// What the `image:` lines of an instance's templates give, walked with its values.
    func lines(of instance: ChartInstance, defines: [String: DefinedTemplate],
               linesByFile: [String: [ImageLine]]) -> [TemplateImageResult] {
        var finder = TemplateImageFinder(context: Self.context(of: instance, defines: defines), linesByFile: linesByFile)
        for (relative, template) in instance.chart.templates where Self.isRendered(relative) {
            finder.walk(file: instance.chart.files.entryName(relative), nodes: template.nodes)
        }
        return finder.results
    }

    /// The live lines of the instance's ancestors that read its values (through `.Subcharts.NAME.Values`,
    /// or the parent's section under its name), with those reads as paths of its own values: a values
    /// image they read is rendered there (or could not be), so it is not listed again on its own.
    static func readers(of index: Int, instances: [ChartInstance], lines: [[TemplateImageResult]]) -> [TemplateImageResult] {
        let path = instances[index].path
        var out: [TemplateImageResult] = []
        for (other, ancestor) in instances.enumerated() where ancestor.path.count < path.count && path.starts(with: ancestor.path) {
            let prefix = path.dropFirst(ancestor.path.count).joined(separator: ".") + "."
            for line in lines[other] where line.liveness.isLive {
                let reads = Set(line.reads.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
                guard !reads.isEmpty else { continue }
                out.append(TemplateImageResult(file: line.file, line: line.line, written: line.written, liveness: line.liveness,
                                               outcome: line.outcome, reads: reads, numbers: []))
            }
        }
        return out
    }

    /// Values files merged in order as `helm template -f a -f b` merges them (a later file wins key
    /// by key, mappings merge, a null is kept so that it deletes the chart's default). Each file
    /// is `(bytes, name)`, the name standing for the file in sources and messages. An empty file
    /// is an empty mapping; YAML over the limits or a document that is not a mapping is an error
    /// naming the file.
    public func userValues(_ files: [(bytes: [UInt8], name: String)]) throws(ImageScanError) -> ValueNode? {
        guard let first = files.first else { return nil }
        var merged = ValueNode.emptyMap(file: first.name)
        for (bytes, name) in files {
            let node: YAMLNode?
            do throws(YAMLError) { node = try YAMLDocument.load(bytes, source: name, limits: yamlLimits) } catch { throw .yaml(error) }
            guard let node, !node.isNull else { continue }
            let values = ValueNode(node, file: name)
            guard values.pairs != nil else {
                throw .values(file: name, line: values.line, message: "the values are not a mapping (Helm refuses the file)")
            }
            merged = ValueCoalescing.merge(values, over: merged)
        }
        return merged
    }

    /// The named templates of the enabled tree; when two charts define a name, the one whose
    /// file path is shorter wins (Helm parses deeper charts first, so parents override).
    static func defines(of instances: [ChartInstance]) -> [String: DefinedTemplate] {
        var all: [(order: String, name: String, template: DefinedTemplate)] = []
        var seenCharts = Set<ObjectIdentifier>()
        for instance in instances where seenCharts.insert(ObjectIdentifier(instance.chart)).inserted {
            let helmPath = instance.path.joined(separator: "/charts/") + "/"
            for (relative, template) in instance.chart.templates {
                for (name, body) in GoTemplate.defines(in: template.nodes) {
                    all.append((helmPath + relative, name, DefinedTemplate(file: instance.chart.files.entryName(relative), body: body)))
                }
            }
        }
        // Longest paths first, so that shorter ones overwrite them.
        all.sort { $0.order.count != $1.order.count ? $0.order.count > $1.order.count : $0.order > $1.order }
        var out: [String: DefinedTemplate] = [:]
        for entry in all { out[entry.name] = entry.template }
        return out
    }

    // MARK: - One chart

    /// What a values key gave: a reference (with a note on how it was completed) or a warning.
    enum ValueOutcome {
        case image(ImageReference, note: String?)
        case warning(ImageWarning)
    }

    /// A values image: its key path (matched against the `.Values` paths template lines read),
    /// where it is, what it gives, and the `enabled: false` key that turns it off, if any.
    struct ValueImage {
        let key: String
        let file: String
        let line: Int
        let outcome: ValueOutcome
        let offBecause: String?
        /// Warnings that go with the image when it is listed (unquoted numbers).
        var notes: [ImageWarning] = []
    }

    /// The warning for an unquoted number that Helm renders otherwise than it is written.
    static func numberWarning(chart: String, file: String, line: Int, key: String, written: String, helm: String) -> ImageWarning {
        ImageWarning(chart: chart, file: file, line: line, key: key,
                     message: "the unquoted number \(written) renders as \(helm) (Helm reads it as a number), so the chart pulls that and it is what is listed; the chart should quote it")
    }

    /// One instance's images from its template lines and its values; `readers` are its ancestors'
    /// lines that read its values (``readers(of:instances:lines:)``).
    func scan(_ instance: ChartInstance, lines: [TemplateImageResult], readers external: [TemplateImageResult],
              extraWarnings: [ImageWarning]) -> ChartImages {
        let chart = instance.chart
        let label = instance.label
        var warnings = extraWarnings
        for error in chart.templateErrors {
            warnings.append(ImageWarning(chart: label, file: chart.files.entryName(error.relative), line: error.line, key: nil,
                                         message: "the template cannot be parsed (\(error.message)); its images are not listed"))
        }

        // Values.
        var valueImages: [ValueImage] = []
        walkValues(instance.values, path: "", offBecause: nil, instance: instance, into: &valueImages)

        // Reconcile.
        var used: [ImageReference: Set<ImageSource>] = [:]
        var unused: [ImageReference: Set<ImageSource>] = [:]
        func related(_ read: String, _ key: String) -> Bool {
            read == key || read.hasPrefix(key + ".") || key.hasPrefix(read + ".") || read.hasPrefix(key + "[") || key.hasPrefix(read + "[")
        }
        for value in valueImages {
            let readers = (lines + external).filter { line in line.reads.contains { related($0, value.key) } }
            let liveUnknown = readers.contains { line in
                if case .unknown = line.outcome { return line.liveness.isLive } else { return false }
            }
            let liveRendered = readers.contains { line in
                if case .unknown = line.outcome { return false } else { return line.liveness.isLive }
            }
            var offNote = value.offBecause.map { "\($0) is false" }
            if offNote == nil, !liveUnknown, !liveRendered, let off = readers.first(where: { !$0.liveness.isLive }) {
                if case .off(let why) = off.liveness { offNote = "\(off.file):\(off.line): \(why)" }
            }
            if offNote == nil, liveRendered, !liveUnknown { continue }  // the template's result stands
            switch value.outcome {
            case .image(let reference, let note):
                if let offNote {
                    unused[reference, default: []].insert(ImageSource(kind: .values, file: value.file, line: value.line, key: value.key, note: offNote))
                } else {
                    used[reference, default: []].insert(ImageSource(kind: .values, file: value.file, line: value.line, key: value.key, note: note))
                    warnings += value.notes
                }
            case .warning(let warning):
                if offNote == nil { warnings.append(warning) }
            }
        }
        for line in lines {
            switch line.outcome {
            case .image(let reference):
                if case .off(let why) = line.liveness {
                    unused[reference, default: []].insert(ImageSource(kind: .template, file: line.file, line: line.line, reads: line.reads.sorted(), note: why))
                } else {
                    used[reference, default: []].insert(ImageSource(kind: .template, file: line.file, line: line.line, reads: line.reads.sorted()))
                    for number in line.numbers {
                        warnings.append(Self.numberWarning(chart: label, file: line.file, line: line.line, key: number.path,
                                                           written: number.written, helm: number.helm))
                    }
                }
            case .invalid(let text, let error):
                guard line.liveness.isLive else { continue }
                let what = line.written.contains("{{")
                    ? "image \(line.written) renders to \(Quoting.doubleQuoted(text)), which is"
                    : "image \(line.written) is"
                warnings.append(ImageWarning(chart: label, file: line.file, line: line.line, key: nil,
                                             message: "\(what) not a valid image reference: \(error.reason)"))
            case .unknown(let reason):
                guard line.liveness.isLive else { continue }
                let covered = valueImages.contains { value in value.offBecause == nil && line.reads.contains { related($0, value.key) } }
                if covered { continue }
                warnings.append(ImageWarning(chart: label, file: line.file, line: line.line, key: nil,
                                             message: "image \(line.written) cannot be determined without rendering the chart (the value \(reason)); it is not listed"))
            }
        }
        let images = used.map { FoundImage(reference: $0.key, sources: $0.value.sorted()) }.sorted { $0.reference < $1.reference }
        let notUsed = unused.filter { used[$0.key] == nil }
            .map { FoundImage(reference: $0.key, sources: $0.value.sorted()) }.sorted { $0.reference < $1.reference }
        let sortedWarnings = Array(Set(warnings)).sorted {
            ($0.file, $0.line ?? 0, $0.key ?? "", $0.message) < ($1.file, $1.line ?? 0, $1.key ?? "", $1.message)
        }
        return ChartImages(path: instance.path, chart: chart.metadata.name, version: chart.metadata.version,
                           appVersion: chart.metadata.appVersion, images: images, unused: notUsed, warnings: sortedWarnings)
    }

    /// Whether a template file is rendered as a manifest (not a `_` partial, not NOTES.txt).
    static func isRendered(_ relative: String) -> Bool {
        let name = relative.split(separator: "/").last.map(String.init) ?? relative
        return !name.hasPrefix("_") && relative != "templates/NOTES.txt"
    }

    // MARK: - Values conventions

    /// Whether a values key names an image: `image`, or `<name>Image` (`initImage`).
    static func isImageKey(_ key: String) -> Bool { ImageLine.isImageKey(key) }

    private func walkValues(_ node: ValueNode, path: String, offBecause: String?, instance: ChartInstance, into found: inout [ValueImage]) {
        switch node.content {
        case .map(let pairs):
            var off = offBecause
            if off == nil, let enabled = node["enabled"], case .bool(false)? = enabled.scalarType {
                off = path.isEmpty ? "enabled" : path + ".enabled"
            }
            for pair in pairs {
                if path.isEmpty, pair.key == "global" || instance.subchartKeys.contains(pair.key) { continue }
                let childPath = path.isEmpty ? pair.key : path + "." + pair.key
                if Self.isImageKey(pair.key), let image = valueImage(pair, in: node, path: childPath, instance: instance, offBecause: off) {
                    found.append(image)
                    continue
                }
                walkValues(pair.value, path: childPath, offBecause: off, instance: instance, into: &found)
            }
        case .list(let items):
            for (index, item) in items.enumerated() {
                walkValues(item, path: "\(path)[\(index)]", offBecause: offBecause, instance: instance, into: &found)
            }
        default:
            break
        }
    }

    /// The image a values key `image`/`<name>Image` holds, if it holds one.
    private func valueImage(_ pair: ValuePair, in parent: ValueNode, path: String, instance: ChartInstance, offBecause: String?) -> ValueImage? {
        let chart = instance.chart
        let node = pair.value
        func warning(_ message: String, key: String? = nil, line: Int? = nil) -> ImageWarning {
            ImageWarning(chart: instance.label, file: node.file, line: line ?? pair.keyLine, key: key ?? path, message: message)
        }
        var numberNotes: [ImageWarning] = []
        func make(_ outcome: ValueOutcome, off: String?) -> ValueImage {
            ValueImage(key: path, file: node.file, line: pair.keyLine, outcome: outcome, offBecause: off, notes: numberNotes)
        }
        func parse(_ text: String, note: String?) -> ValueOutcome {
            do throws(ImageReferenceError) { return .image(try ImageReference(parsing: text), note: note) } catch {
                return .warning(warning("\(Quoting.doubleQuoted(text)) is not a valid image reference: \(error.reason)"))
            }
        }
        switch node.content {
        case .scalar(let text, _):
            guard !text.isEmpty, node.scalarType == .string else { return nil }
            if text.contains("{{") {
                return make(.warning(warning("the value \(Quoting.doubleQuoted(text)) is a template (for tpl); chartsync does not render it, so the image is not listed")), off: offBecause)
            }
            var full = text
            var note: String?
            let afterSlash = text.split(separator: "/").last.map(String.init) ?? text
            if !afterSlash.contains(":"), !text.contains("@") {
                let tagKeys = pair.key == "image" ? [pair.key + "Tag", "tag"] : [pair.key + "Tag"]
                for tagKey in tagKeys {
                    guard let tag = parent[tagKey], let tagText = tag.text, !tagText.isEmpty else { continue }
                    if tagText.contains("{{") {
                        return make(.warning(warning("the tag \(Quoting.doubleQuoted(tagText)) is a template (for tpl); chartsync does not render it, so the image is not listed", key: Self.sibling(path, tagKey), line: tag.line)), off: offBecause)
                    }
                    // What the cluster pulls: Helm renders an unquoted number as a float (1.10 as 1.1).
                    full = text + ":" + (tag.helmRenderingIfDifferent ?? tagText)
                    note = "tag from \(Self.sibling(path, tagKey))"
                    if let helm = tag.helmRenderingIfDifferent {
                        numberNotes.append(Self.numberWarning(chart: instance.label, file: tag.file, line: tag.line,
                                                              key: Self.sibling(path, tagKey), written: tagText, helm: helm))
                    }
                    break
                }
            }
            return make(parse(full, note: note), off: offBecause)
        case .map:
            guard let repositoryKey = ["repository", "name", "image"].first(where: { node[$0]?.text?.isEmpty == false }) else { return nil }
            var off = offBecause
            if off == nil, let enabled = node["enabled"], case .bool(false)? = enabled.scalarType { off = path + ".enabled" }
            var parts: [String: String] = [:]
            for field in [repositoryKey, "registry", "tag", "digest"] {
                guard let value = node[field] else { continue }
                guard let text = value.text else {
                    if value.isNull { continue }
                    return make(.warning(warning("\(field) is not a string", key: path + "." + field, line: value.line)), off: off)
                }
                if text.contains("{{") {
                    return make(.warning(warning("the value \(Quoting.doubleQuoted(text)) is a template (for tpl); chartsync does not render it, so the image is not listed", key: path + "." + field, line: value.line)), off: off)
                }
                if !text.isEmpty { parts[field] = value.helmRenderingIfDifferent ?? text }
                if let helm = value.helmRenderingIfDifferent {
                    numberNotes.append(Self.numberWarning(chart: instance.label, file: value.file, line: value.line,
                                                          key: path + "." + field, written: text, helm: helm))
                }
            }
            var notes: [String] = []
            var registry = parts["registry"]
            if let global = instance.values["global"]?["imageRegistry"]?.text, !global.isEmpty {
                registry = global
                notes.append("registry from global.imageRegistry")
            }
            var tag = parts["tag"]
            if tag == nil, parts["digest"] == nil {
                guard let appVersion = chart.metadata.appVersion, !appVersion.isEmpty else {
                    return make(.warning(warning("has no tag, and the chart has no appVersion to default it to; the image is not listed")), off: off)
                }
                tag = appVersion
                notes.append("tag from appVersion")
            }
            var text = (registry.map { $0.hasSuffix("/") ? $0 : $0 + "/" } ?? "") + parts[repositoryKey]!
            if let tag { text += ":" + tag }
            if let digest = parts["digest"] { text += "@" + digest }
            return make(parse(text, note: notes.isEmpty ? nil : notes.joined(separator: ", ")), off: off)
        default:
            return nil
        }
    }

    /// The key path of `key` beside the last key of `path`.
    static func sibling(_ path: String, _ key: String) -> String {
        guard let dot = path.lastIndex(of: ".") else { return key }
        return String(path[...dot]) + key
    }
}
