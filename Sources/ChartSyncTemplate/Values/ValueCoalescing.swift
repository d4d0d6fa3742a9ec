/// Helm's value coalescing (pkg/chart/common/util/coalesce.go; pkg/chartutil in Helm 3) and its
/// merging of `-f` values files: the higher layer wins key by key, mappings merge recursively, a null in
/// the higher layer removes the key from the lower one, and a parent's `global` section is copied
/// down into each subchart's section.
public enum ValueCoalescing {
    /// What a parent's values give one subchart.
    public enum SubchartSection: Sendable {
        /// The section to coalesce over the subchart's own values.yaml.
        case section(ValueNode)
        /// The parent's section under the subchart's name is neither a mapping nor null (Helm
        /// ignores it, so the subchart's own defaults are used); the node says where it is.
        case notAMapping(ValueNode)
    }

    /// `high` over `low`: keys of `high` win; mappings present in both merge; a null in `high`
    /// deletes the key. When `high` is not a mapping it wins as a whole.
    public static func coalesce(_ high: ValueNode, over low: ValueNode) -> ValueNode {
        guard let lowPairs = low.pairs, var pairs = high.pairs else { return high }
        for pair in lowPairs {
            if let index = pairs.firstIndex(where: { $0.key == pair.key }) {
                if pairs[index].value.isNull {
                    pairs.remove(at: index)
                } else if pairs[index].value.pairs != nil, pair.value.pairs != nil {
                    pairs[index].value = coalesce(pairs[index].value, over: pair.value)
                }
                // Otherwise the higher layer's value stands (Helm warns when a table meets a non-table).
            } else {
                pairs.append(pair)
            }
        }
        var result = high
        result.content = .map(pairs)
        return result
    }

    /// `high` merged over `low` as Helm merges values files given with `-f` (pkg/cli/values
    /// mergeMaps): keys of `high` win, mappings present in both merge recursively, and a null in
    /// `high` is kept as a null (unlike ``coalesce(_:over:)``), so that it later deletes the key
    /// from the chart's defaults. A `high` that is not a mapping wins as a whole.
    public static func merge(_ high: ValueNode, over low: ValueNode) -> ValueNode {
        guard var pairs = low.pairs, let highPairs = high.pairs else { return high }
        for pair in highPairs {
            if let index = pairs.firstIndex(where: { $0.key == pair.key }) {
                if pair.value.pairs != nil, pairs[index].value.pairs != nil {
                    pairs[index].value = merge(pair.value, over: pairs[index].value)
                } else {
                    pairs[index].value = pair.value
                }
            } else {
                pairs.append(pair)
            }
        }
        var result = low
        result.content = .map(pairs)
        return result
    }

    /// The `global` section a subchart sees: the parent's globals win over the subchart section's
    /// own (coalesceGlobals: tables merge top-down, scalars from the parent replace).
    static func passGlobals(from parent: ValueNode, into section: ValueNode) -> ValueNode {
        guard let parentGlobal = parent["global"], parentGlobal.pairs != nil else { return section }
        var result = section
        if let own = section["global"], own.pairs != nil {
            result.set("global", coalesce(parentGlobal, over: own))
        } else {
            result.set("global", parentGlobal)
        }
        return result
    }

    /// The section the subchart installed as `name` gets from its parent's computed values
    /// `parent` (Helm's coalesceDeps): the parent's `name` section, an empty mapping in
    /// `emptyFile` when there is none or it is null, with the parent's globals passed in.
    public static func subchartSection(_ name: String, of parent: ValueNode, emptyFile: String) -> SubchartSection {
        var own = parent[name] ?? .emptyMap(file: emptyFile)
        if own.isNull { own = .emptyMap(file: own.file) }
        guard own.pairs != nil else { return .notAMapping(own) }
        return .section(passGlobals(from: parent, into: own))
    }
}
