// CLBlast's C API as one Swift module. The OpenCL version macros must come before any CL header.
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <clblast_c.h>
