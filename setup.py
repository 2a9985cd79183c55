"""disent_bias: inductive biases of (beta-)VAEs, reproduced in JAX."""

import setuptools

setuptools.setup(
    name='disent_bias',
    version='0.1.0',
    description=('Reproduces "Demystifying Inductive Biases for (beta-)VAE '
                 'Based Architectures" (ICML 2021) in JAX.'),
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=setuptools.find_packages(include=['disent_bias', 'disent_bias.*',
                                               'experiments', 'experiments.*']),
    install_requires=[
        'jax>=0.4.30',
        'flax>=0.10',
        'optax>=0.2.3',
        'orbax-checkpoint>=0.6',
        'numpy>=1.24',
        'absl-py>=2.0',
        'filelock>=3.12',
        'ml-collections>=0.1.1',
        'h5py>=3.8',
        'scikit-learn>=1.3',
        'joblib>=1.3',
        'scipy>=1.10',
        'matplotlib>=3.7',
        'pillow>=9.0',
    ],
    extras_require={
        'test': ['pytest>=7', 'pytest-xdist>=3', 'chex>=0.1.86', 'nbclient>=0.10',
                 'nbformat>=5.9', 'ipykernel>=6', 'tensorboardX>=2.6',
                 'pandas>=2.0'],
        # TensorBoard event files (tensorboardX: no TensorFlow needed).
        'tensorboard': ['tensorboardX>=2.6'],
        # experiments.aggregate: the table of runs (parquet with pyarrow).
        'aggregate': ['pandas>=2.0', 'pyarrow>=14'],
        'tfds': ['tensorflow-datasets>=4.9', 'tensorflow-cpu>=2.15'],
        'fast': ['lightgbm>=4.0'],
        'notebooks': ['jupyter', 'nbclient>=0.10', 'nbformat>=5.9',
                      'ipykernel>=6'],
    },
    classifiers=[
        'Programming Language :: Python :: 3',
        'License :: OSI Approved :: Apache Software License',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
