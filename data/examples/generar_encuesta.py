"""Genera la encuesta de victimización SINTÉTICA del ejemplo de Honduras
(data/examples/encuestas/enpevi_hn_2022.sav), declarada en honduras.toml ([[encuestas]]).

Un archivo SPSS con etiquetas de valores, como los que publican los institutos de estadística:
estratos por departamento y área, unidades primarias de muestreo, pesos desiguales y códigos
«No sabe» (8) y «No responde» (9). La victimización sigue el nivel de homicidios de cada
departamento en los archivos de incidentes del ejemplo. No son datos reales.
Uso: python data/examples/generar_encuesta.py  (determinista: misma semilla, mismo archivo)
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
SHARED = HERE.parent.parent.parent / "shared" / "data" / "honduras"

from core.load import survey_example  # noqa: E402


def main() -> None:
    population = pd.read_csv(SHARED / "poblacion_municipal_2020_2025.csv", dtype={"cod_municipio": str})
    population["dept"] = population["cod_municipio"].str.zfill(4).str[:2]
    # the survey interviews adults; the population file has no ages: about 60 % of Hondurans are 18 or older
    people = population.groupby("dept")["pob_2022"].sum() * 0.6
    police = pd.read_csv(HERE / "incidentes" / "sepol_2020_2022.csv", sep=";", encoding="latin-1", dtype=str,
                         on_bad_lines="skip")
    police["dept"] = police["COD_MUNI"].str.zfill(4).str[:2]
    cases = police.groupby("dept").size().reindex(people.index).fillna(0)
    level = (cases / people) / (cases.sum() / people.sum())
    out = HERE / "encuestas" / "enpevi_hn_2022.sav"
    out.parent.mkdir(exist_ok=True)
    survey_example.write(out, level.clip(lower=0.2).to_dict(), people.to_dict(), 2022, np.random.default_rng(2022))
    print(f"{out} escrito")


if __name__ == "__main__":
    main()
