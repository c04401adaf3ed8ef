/// How a batch is cut into units of work: tiles of W rows run interleaved (lane = row); a last
/// unit of fewer rows runs interleaved too (padded lanes) if it has at least `smallestTile` rows,
/// else row by row (the selected kernels' SmallestTiles for the kind of call: both compute the
/// same bits). For parameter gradients, units are grouped into at most `maxGroups` contiguous
/// groups, each summed into its own partial gradient, and the partials are added in group
/// order: the plan depends on the batch size only, so results are bitwise identical for every
/// thread count.
struct BatchPlan: Sendable {
    let batch: Int
    let tileRows: Int
    let smallestTile: Int
    let unitCount: Int
    let groupCount: Int
    static let maxGroups = 64

    init(batch: Int, tileRows: Int, smallestTile: Int) {
        self.batch = batch
        self.tileRows = tileRows
        self.smallestTile = smallestTile
        unitCount = (batch + tileRows - 1) / tileRows
        groupCount = min(unitCount, BatchPlan.maxGroups)
    }

    func rows(ofUnit unit: Int) -> Range<Int> {
        unit * tileRows ..< min(batch, (unit + 1) * tileRows)
    }

    func isInterleaved(_ rows: Range<Int>) -> Bool {
        rows.count >= smallestTile
    }

    func units(ofGroup group: Int) -> Range<Int> {
        group * unitCount / groupCount ..< (group + 1) * unitCount / groupCount
    }
}
