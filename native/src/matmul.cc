// Matrix products on the system BLAS (OpenBLAS).
#include <cblas.h>

#include "kernels.h"

extern "C" {
// OpenBLAS extensions, declared here so any cblas.h will do
int openblas_get_num_threads(void);
char *openblas_get_config(void);
}

namespace slimtrain {

void batchMatMul(const float *a, const float *b, float *c, int batchA, int batchB, int m, int n, int k,
                 bool transposeA, bool transposeB) {
  const int batch = batchA > batchB ? batchA : batchB;
  const int lda = transposeA ? m : k, ldb = transposeB ? k : n;
  for (int i = 0; i < batch; i++) {
    const float *ai = a + static_cast<int64_t>(batchA == 1 ? 0 : i) * m * k;
    const float *bi = b + static_cast<int64_t>(batchB == 1 ? 0 : i) * k * n;
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans, m, n,
                k, 1.f, ai, lda, bi, ldb, 0.f, c + static_cast<int64_t>(i) * m * n, n);
  }
}

std::string blasInfo() { return openblas_get_config(); }

int blasThreads() { return openblas_get_num_threads(); }

}  // namespace slimtrain
