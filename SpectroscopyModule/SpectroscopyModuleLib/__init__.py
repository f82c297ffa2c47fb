"""SpectroscopyModule's Qt-free library: readers (io), processing, basis sets, fitting, quantification,
and the pipeline/Logic/command line built on them."""
