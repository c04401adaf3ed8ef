import FastfoodCore
import FastfoodEngine

/// The parameter layout as fastfood.h documents it ([S | G | B | bias], K*D each of S, G, B),
/// decoded here independently of the engine's ParameterLayout, so the oracles check it too.
extension LayerShape {
    var scaleOffset: Int { 0 }
    var gaussianOffset: Int { diagonalLength }
    var signOffset: Int { 2 * diagonalLength }
    var biasOffset: Int { 3 * diagonalLength }
}
