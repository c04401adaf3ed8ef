/* A C program built only from the installed files, through pkg-config. */
#include <fastfood.h>
#include <stdio.h>

int main(void) {
    fastfood_layer *layer = NULL;
    if (fastfood_layer_create(10, 20, 1, FASTFOOD_LAYER_BIAS, &layer) != FASTFOOD_OK) return 1;
    float params[3 * 32 + 20], x[10] = {1, 2, 3}, y[20];
    if (fastfood_layer_param_count(layer) != sizeof params / sizeof params[0]) return 1;
    if (fastfood_init_params_f32(layer, 2, 1.0, params) != FASTFOOD_OK) return 1;
    if (fastfood_forward_f32(layer, params, 1, x, 10, y, 20) != FASTFOOD_OK) return 1;
    fastfood_layer_destroy(layer);
    printf("pkg-config consumer: fastfood %s, y[0] = %g\n", fastfood_version_string(), y[0]);
    return fastfood_version_number() == FASTFOOD_VERSION_NUMBER ? 0 : 1;
}
