"""systeminfo's and msinfo32's words in the languages Windows ships, each from a real output
that can be named (docs/sources.md keys ``SI-<language>``), and the layout that holds in every
language.

Per language: the field labels (mapped to the English ones), the four Hyper-V requirement
rows, the "A hypervisor has been detected" sentence. Only what a cited output shows is
listed; a language or a label not listed is read by the layout:

* LAYOUT (every systeminfo seen, English, pt-BR, fr, es, ru, zh-CN): the fields come in
  :data:`ORDER`, ``Label:`` padded to one value column (in display columns: an East Asian
  wide character takes two), continuation lines indented; newer builds add the
  "Virtualization-based security" block before "Hyper-V Requirements", which is last and
  holds either four ``row: word`` lines in :data:`ROWS` order or one sentence without a colon
  (the hypervisor is present). msinfo32 keeps the ``Hyper-V - `` prefix of its four rows in
  every language (SI-JA2) and prints them in :data:`MSINFO_ROWS` order.

The yes/no words are meanings, read in decode/winreport.py (``YES_NO``), never here.
"""

from __future__ import annotations

import unicodedata

from nestprobe.model.record import Record

#: systeminfo's fields in the order it prints them (LAYOUT; HVREQ for the last one).
ORDER = (
    "Host Name", "OS Name", "OS Version", "OS Manufacturer", "OS Configuration",
    "OS Build Type", "Registered Owner", "Registered Organization", "Product ID",
    "Original Install Date", "System Boot Time", "System Manufacturer", "System Model",
    "System Type", "Processor(s)", "BIOS Version", "Windows Directory", "System Directory",
    "Boot Device", "System Locale", "Input Locale", "Time Zone", "Total Physical Memory",
    "Available Physical Memory", "Virtual Memory: Max Size", "Virtual Memory: Available",
    "Virtual Memory: In Use", "Page File Location(s)", "Domain", "Logon Server",
    "Hotfix(s)", "Network Card(s)",
)
VBS = "Virtualization-based security"
REQUIREMENTS = "Hyper-V Requirements"
#: The requirement rows in the order systeminfo prints them (HVREQ).
ROWS = ("VM Monitor Mode Extensions", "Virtualization Enabled In Firmware",
        "Second Level Address Translation", "Data Execution Prevention Available")
#: msinfo32's Hyper-V rows in the order it prints them (the corpus msinfo32 pastes; SI-JA2).
MSINFO_ROWS = ("Hyper-V - VM Monitor Mode Extensions",
               "Hyper-V - Second Level Address Translation Extensions",
               "Hyper-V - Virtualization Enabled in Firmware",
               "Hyper-V - Data Execution Protection")


class Language(Record):
    """One language's systeminfo words, as a cited output prints them."""

    code: str
    source: str  # docs/sources.md keys
    labels: dict[str, str]  # printed label -> English label
    rows: dict[str, str]  # printed requirement row -> English row
    sentences: tuple[str, ...]  # how the hypervisor sentence begins


def _labels(*pairs: tuple[str, str]) -> dict[str, str]:
    return dict(pairs)


def _by_order(*printed: str) -> dict[str, str]:
    """Labels given in ORDER (a full cited output): printed label -> English."""
    assert len(printed) == len(ORDER), printed
    return dict(zip(printed, ORDER, strict=True))


LANGUAGES: tuple[Language, ...] = (
    Language("en", "HVREQ; CORPUS",
             {label: label for label in (*ORDER, VBS, REQUIREMENTS)}
             | {"Hyper-V Requirement": REQUIREMENTS},  # hand-edited (pi-node/instructions#99)
             {row: row for row in ROWS},
             ("A hypervisor has been detected",)),
    Language("pt-BR", "CORPUS docker/for-win#13747; SI-PTBR",
             _labels(("Nome do host", "Host Name"),
                     ("Nome do sistema operacional", "OS Name"),
                     ("Versão do sistema operacional", "OS Version"),
                     ("Fabricante do sistema operacional", "OS Manufacturer"),
                     ("Configuração do SO", "OS Configuration"),
                     ("Configuração do sistema operacional", "OS Configuration"),
                     ("Tipo de compilação do sistema operacional", "OS Build Type"),
                     ("Proprietário registrado", "Registered Owner"),
                     ("Organização registrada", "Registered Organization"),
                     ("Identificação do produto", "Product ID"),
                     ("Data da instalação original", "Original Install Date"),
                     ("Tempo de Inicialização do Sistema", "System Boot Time"),
                     ("Fabricante do sistema", "System Manufacturer"),
                     ("Modelo do sistema", "System Model"),
                     ("Tipo de sistema", "System Type"),
                     ("Processador(es)", "Processor(s)"),
                     ("Versão do BIOS", "BIOS Version"),
                     ("Diretório do Windows", "Windows Directory"),
                     ("Diretório do sistema", "System Directory"),
                     ("Inicializar dispositivo", "Boot Device"),
                     ("Localidade do sistema", "System Locale"),
                     ("Localidade de entrada", "Input Locale"),
                     ("Fuso horário", "Time Zone"),
                     ("Memória física total", "Total Physical Memory"),
                     ("Memória física disponível", "Available Physical Memory"),
                     ("Memória Virtual: Tamanho Máximo", "Virtual Memory: Max Size"),
                     ("Memória Virtual: Disponível", "Virtual Memory: Available"),
                     ("Memória Virtual: Em Uso", "Virtual Memory: In Use"),
                     ("Local(s) do Arquivo de Página", "Page File Location(s)"),
                     ("Domínio", "Domain"),
                     ("Servidor de Logon", "Logon Server"),
                     ("Hotfix(es)", "Hotfix(s)"),
                     ("Placa(s) de Rede", "Network Card(s)"),
                     ("Segurança baseada em virtualização", VBS),
                     ("Requisitos do Hyper-V", REQUIREMENTS)),
             {"Extensão de Modo de Monitor VM": ROWS[0],
              "Virtualização Habilitada no Firmware": ROWS[1],
              "Conversão de Endereços de Segundo Nível": ROWS[2],
              "Prevenção de Execução de Dados Disponível": ROWS[3]},
             ("Hipervisor detectado",)),
    Language("fr", "SI-FR; SI-FR2; SI-FR3",
             _by_order("Nom de l'hôte", "Nom du système d'exploitation", "Version du système",
                       "Fabricant du système d'exploitation",
                       "Configuration du système d'exploitation",
                       "Type de version du système d'exploitation", "Propriétaire enregistré",
                       "Organisation enregistrée", "Identificateur de produit",
                       "Date d'installation originale", "Heure de démarrage du système",
                       "Fabricant du système", "Modèle du système", "Type du système",
                       "Processeur(s)", "Version du BIOS", "Répertoire Windows",
                       "Répertoire système", "Périphérique d'amorçage",
                       "Option régionale du système", "Paramètres régionaux d'entrée",
                       "Fuseau horaire", "Mémoire physique totale", "Mémoire physique disponible",
                       "Mémoire virtuelle : taille maximale", "Mémoire virtuelle : disponible",
                       "Mémoire virtuelle : en cours d'utilisation",
                       "Emplacements des fichiers d'échange", "Domaine",
                       "Serveur d'ouverture de session", "Correctif(s)", "Carte(s) réseau")
             | {"Configuration requise pour Hyper-V": REQUIREMENTS,
                # Windows 10 22H2 (SI-FR3) says "build" where 1909 said "version"
                "Type de build du système d'exploitation": "OS Build Type"},
             {"Extensions de mode du moniteur d'ordinateur virtuel": ROWS[0],
              "Virtualisation activée dans le microprogramme": ROWS[1],
              "Traduction d'adresse de second niveau": ROWS[2],
              "Prévention de l'exécution des données disponible": ROWS[3]},
             ("Un hyperviseur a été détecté",)),
    Language("es", "SI-ES; SI-ES2",
             _by_order("Nombre de host", "Nombre del sistema operativo",
                       "Versión del sistema operativo", "Fabricante del sistema operativo",
                       "Configuración del sistema operativo",
                       "Tipo de compilación del sistema operativo", "Propiedad de",
                       "Organización registrada", "Id. del producto",
                       "Fecha de instalación original", "Tiempo de arranque del sistema",
                       "Fabricante del sistema", "Modelo el sistema", "Tipo de sistema",
                       "Procesador(es)", "Versión del BIOS", "Directorio de Windows",
                       "Directorio de sistema", "Dispositivo de arranque",
                       "Configuración regional del sistema", "Idioma de entrada", "Zona horaria",
                       "Cantidad total de memoria física", "Memoria física disponible",
                       "Memoria virtual: tamaño máximo", "Memoria virtual: disponible",
                       "Memoria virtual: en uso", "Ubicación(es) de archivo de paginación",
                       "Dominio", "Servidor de inicio de sesión", "Revisión(es)",
                       "Tarjeta(s) de red")
             | {"Requisitos Hyper-V": REQUIREMENTS},
             {"Extensiones de modo de monitor de VM": ROWS[0],
              "Se habilitó la virtualización en el firmware": ROWS[1],
              "Traducción de direcciones de segundo nivel": ROWS[2],
              "La prevención de ejecución de datos está disponible": ROWS[3]},
             ("Se detectó un hipervisor",)),
    Language("de", "SI-DE",
             _labels(("Betriebssystemname", "OS Name"),
                     ("Betriebssystemversion", "OS Version"),
                     ("Betriebssystemhersteller", "OS Manufacturer"),
                     ("Systemhersteller", "System Manufacturer"),
                     ("Systemmodell", "System Model"),
                     ("BIOS-Version", "BIOS Version"),
                     ("Anforderungen für Hyper-V", REQUIREMENTS)),
             {"Erweiterungen für den VM-Überwachungsmodus": ROWS[0],
              "Virtualisierung in Firmware aktiviert": ROWS[1],
              "Adressübersetzung der zweiten Ebene": ROWS[2],
              "Datenausführungsverhinderung verfügbar": ROWS[3]},
             ("Es wurde ein Hypervisor erkannt",)),
    Language("it", "SI-IT",
             {},
             {"Estensioni modalità di monitoraggio macchina virtuale": ROWS[0],
              "Virtualizzazione abilitata nel firmware": ROWS[1],
              "Conversione indirizzi di secondo livello": ROWS[2],
              "Prevenzione esecuzione dati disponibile": ROWS[3]},
             ()),
    Language("nl", "SI-NL",
             {},
             {"Virtualisatie ingeschakeld in firmware": ROWS[1]},
             ("Er is een hypervisor gedetecteerd",)),
    Language("pl", "SI-PL [S]",
             _labels(("Nazwa systemu operacyjnego", "OS Name"),
                     ("Wersja systemu operacyjnego", "OS Version")), {}, ()),
    Language("cs", "SI-CS [S]",
             _labels(("Název operačního systému", "OS Name"),
                     ("Verze operačního systému", "OS Version"),
                     ("Výrobce operačního systému", "OS Manufacturer"),
                     ("Typ systému", "System Type")), {}, ()),
    Language("ru", "SI-RU",
             _by_order("Имя узла", "Название ОС", "Версия ОС", "Изготовитель ОС", "Параметры ОС",
                       "Сборка ОС", "Зарегистрированный владелец",
                       "Зарегистрированная организация", "Код продукта", "Дата установки",
                       "Время загрузки системы", "Изготовитель системы", "Модель системы",
                       "Тип системы", "Процессор(ы)", "Версия BIOS", "Папка Windows",
                       "Системная папка", "Устройство загрузки", "Язык системы", "Язык ввода",
                       "Часовой пояс", "Полный объем физической памяти",
                       "Доступная физическая память", "Виртуальная память: Макс. размер",
                       "Виртуальная память: Доступна", "Виртуальная память: Используется",
                       "Расположение файла подкачки", "Домен", "Сервер входа в сеть",
                       "Исправление(я)", "Сетевые адаптеры")
             | {"Требования Hyper-V": REQUIREMENTS},
             {"Расширения режима мониторинга виртуальной машины": ROWS[0],
              "Виртуализация включена во встроенном ПО": ROWS[1],
              "Преобразование адресов второго уровня": ROWS[2],
              "Доступно предотвращение выполнения данных": ROWS[3]},
             ()),
    Language("zh-CN", "SI-ZHCN; SI-ZHCN2",
             _by_order("主机名", "OS 名称", "OS 版本", "OS 制造商", "OS 配置", "OS 构建类型",
                       "注册的所有人", "注册的组织", "产品 ID", "初始安装日期", "系统启动时间",
                       "系统制造商", "系统型号", "系统类型", "处理器", "BIOS 版本", "Windows 目录",
                       "系统目录", "启动设备", "系统区域设置", "输入法区域设置", "时区",
                       "物理内存总量", "可用的物理内存", "虚拟内存: 最大值", "虚拟内存: 可用",
                       "虚拟内存: 使用中", "页面文件位置", "域", "登录服务器", "修补程序", "网卡")
             | {"Hyper-V 要求": REQUIREMENTS},
             {"虚拟机监视器模式扩展": ROWS[0], "固件中已启用虚拟化": ROWS[1],
              "二级地址转换": ROWS[2], "数据执行保护可用": ROWS[3]},
             ("已检测到虚拟机监控程序",)),
    Language("zh-TW", "SI-ZHTW; CORPUS (Microsoft's translation of the sentence)",
             _labels(("主機名稱", "Host Name"), ("作業系統名稱", "OS Name"),
                     ("作業系統版本", "OS Version"), ("系統型號", "System Model"),
                     ("系統類型", "System Type"), ("處理器", "Processor(s)"),
                     ("BIOS 版本", "BIOS Version"), ("Windows 目錄", "Windows Directory"),
                     ("系統目錄", "System Directory"), ("開機裝置", "Boot Device"),
                     ("系統地區設定", "System Locale"), ("輸入法地區設定", "Input Locale"),
                     ("時區", "Time Zone"), ("實體記憶體總計", "Total Physical Memory"),
                     ("可用實體記憶體", "Available Physical Memory"),
                     ("虛擬記憶體: 大小上限", "Virtual Memory: Max Size"),
                     ("虛擬記憶體: 可用", "Virtual Memory: Available"),
                     ("虛擬記憶體: 使用中", "Virtual Memory: In Use"),
                     ("網路卡", "Network Card(s)"), ("Hyper-V 需求", REQUIREMENTS)),
             {"韌體中已啟用虛擬化": ROWS[1]},
             ("偵測到 Hypervisor", "已偵測到 Hypervisor")),
    Language("ja", "SI-JA; SI-JA2",
             _labels(("ホスト名", "Host Name"), ("OS 名", "OS Name"),
                     ("OS バージョン", "OS Version"), ("OS 製造元", "OS Manufacturer"),
                     ("OS 構成", "OS Configuration"), ("OS Buildの種類", "OS Build Type"),
                     ("登録されている所有者", "Registered Owner"),
                     ("登録されている組織", "Registered Organization"),
                     ("プロダクト ID", "Product ID"),
                     ("最初のインストール日付", "Original Install Date"),
                     ("システム起動時間", "System Boot Time"),
                     ("システム製造元", "System Manufacturer"),
                     ("システム モデル", "System Model"), ("システムの種類", "System Type"),
                     ("プロセッサ", "Processor(s)"), ("Windows ディレクトリ", "Windows Directory"),
                     ("システム ディレクトリ", "System Directory"),
                     ("起動デバイス", "Boot Device"), ("システム ロケール", "System Locale"),
                     ("入力ロケール", "Input Locale"), ("タイム ゾーン", "Time Zone"),
                     ("物理メモリの合計", "Total Physical Memory"),
                     ("利用できる物理メモリ", "Available Physical Memory"),
                     ("仮想メモリ: 最大サイズ", "Virtual Memory: Max Size"),
                     ("仮想メモリ: 利用可能", "Virtual Memory: Available"),
                     ("仮想メモリ: 使用中", "Virtual Memory: In Use"),
                     ("ページ ファイルの場所", "Page File Location(s)"),
                     ("ドメイン", "Domain"), ("ログオン サーバー", "Logon Server"),
                     ("ホットフィックス", "Hotfix(s)"), ("ネットワーク カード", "Network Card(s)"),
                     ("Hyper-V の要件", REQUIREMENTS)),
             {"VM モニター モード拡張機能": ROWS[0],
              "ファームウェアで仮想化が有効になっています": ROWS[1],
              "第 2 レベルのアドレス変換": ROWS[2], "データ実行防止が使用できます": ROWS[3]},
             ("ハイパーバイザーが検出されました",)),
    Language("ko", "SI-KO [S]; SI-KO2",
             _labels(("호스트 이름", "Host Name"), ("등록된 조직", "Registered Organization"),
                     ("제품 ID", "Product ID"), ("원래 설치 날짜", "Original Install Date"),
                     ("시스템 부트 시간", "System Boot Time"),
                     ("시스템 제조업체", "System Manufacturer"), ("시스템 모델", "System Model"),
                     ("시스템 종류", "System Type"), ("프로세서", "Processor(s)"),
                     ("BIOS 버전", "BIOS Version"), ("Windows 디렉터리", "Windows Directory"),
                     ("시스템 디렉터리", "System Directory"), ("부팅 장치", "Boot Device"),
                     ("시스템 로캘", "System Locale"), ("입력 로캘", "Input Locale"),
                     ("표준 시간대", "Time Zone"), ("총 실제 메모리", "Total Physical Memory"),
                     ("사용 가능한 실제 메모리", "Available Physical Memory"),
                     ("가상 메모리: 최대 크기", "Virtual Memory: Max Size"),
                     ("가상 메모리: 사용 가능", "Virtual Memory: Available"),
                     ("가상 메모리: 사용 중", "Virtual Memory: In Use"),
                     ("페이지 파일 위치", "Page File Location(s)"), ("도메인", "Domain"),
                     ("로그온 서버", "Logon Server"), ("핫픽스", "Hotfix(s)"),
                     ("네트워크 카드", "Network Card(s)"), ("Hyper-V 요구 사항", REQUIREMENTS)),
             {"VM 모니터 모드 확장": ROWS[0], "펌웨어에 가상화 사용": ROWS[1],
              "두 번째 수준 주소 변환": ROWS[2], "데이터 실행 방지 사용 가능": ROWS[3]},
             ("하이퍼바이저가 검색되었습니다",)),
)


def normalize(text: str) -> str:
    """What label matching compares: typographic apostrophes as ASCII (fr Windows 10 prints
    ``’``, older builds and re-typed pastes ``'``), runs of spaces as one, no space before a
    colon (fr Windows 10 prints "Mémoire virtuelle : disponible", Server 2019
    "Mémoire virtuelle: disponible", SI-FR4)."""
    text = " ".join(text.replace("\u2019", "'").replace("\u02bc", "'").split())
    return text.replace(" :", ":")


#: Every printed label -> (English label, language code); a label two languages share means
#: the same field in both (checked by a test).
LABELS: dict[str, tuple[str, str]] = {}
ROW_NAMES: dict[str, tuple[str, str]] = {}
for _language in LANGUAGES:
    for _printed, _english in _language.labels.items():
        LABELS.setdefault(normalize(_printed), (_english, _language.code))
    for _printed, _english in _language.rows.items():
        ROW_NAMES.setdefault(normalize(_printed), (_english, _language.code))
#: How the hypervisor sentence begins, every language listed.
SENTENCES: tuple[tuple[str, str], ...] = tuple(
    (normalize(s), lang.code) for lang in LANGUAGES for s in lang.sentences)

#: The mark a lossy reading adds to a language code (see :func:`lossy`).
LOST = " (non-ASCII letters lost)"
#: Marks a console or a copy leaves where it could not write a letter (SI-FR4).
_LOST_MARKS = str.maketrans("", "", "?\ufffd")


def lossy(text: str) -> str:
    """``text`` as a transport that cannot write non-ASCII letters leaves it: dropped (a
    reverse shell, SI-FR4), or written as ``?`` or U+FFFD (a console redirected in another
    code page), both read as dropped."""
    return normalize("".join(c for c in text.translate(_LOST_MARKS) if c.isascii()))


def _latin(word: str) -> bool:
    return all(c.isascii() or "LATIN" in unicodedata.name(c, "") for c in word)


def _lossy_table(table: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Words with non-ASCII letters as a lossy transport leaves them, where enough is left to
    be unambiguous: at least 4 letters and 60% of the word, and no other word reads the same."""
    out: dict[str, tuple[str, str]] = {}
    clash: set[str] = set()
    for word, (english, code) in table.items():
        # Latin scripts only: a transport drops their accents; a Cyrillic or CJK word
        # would leave little more than "BIOS" or "Hyper-V", which says nothing.
        if word.isascii() or not _latin(word):
            continue
        left = lossy(word)
        letters = sum(c.isalpha() for c in left)
        if letters < 4 or letters < 0.6 * sum(c.isalpha() for c in word) or left in table:
            continue
        if left in out and out[left][0] != english:
            clash.add(left)
        out.setdefault(left, (english, code + LOST))
    return {k: v for k, v in out.items() if k not in clash}


#: Labels and requirement rows as a lossy transport leaves them -> (English, code + LOST).
LOSSY_LABELS = _lossy_table(LABELS)
LOSSY_ROWS = _lossy_table(ROW_NAMES)
LOSSY_SENTENCES: tuple[tuple[str, str], ...] = tuple(
    (lossy(sentence), code + LOST) for sentence, code in SENTENCES
    if not sentence.isascii() and _latin(sentence))


def label(text: str) -> tuple[str, str] | None:
    """(English label, language code) of a printed label, else None; a label that lost its
    non-ASCII letters on the way is read too, its code marked :data:`LOST`."""
    norm = normalize(text)
    return LABELS.get(norm) or LOSSY_LABELS.get(lossy(norm))


def row(text: str) -> tuple[str, str] | None:
    """(English row, language code) of a printed requirement row, as :func:`label`."""
    norm = normalize(text)
    return ROW_NAMES.get(norm) or LOSSY_ROWS.get(lossy(norm))


def sentence_language(text: str) -> str | None:
    """The language whose hypervisor sentence ``text`` begins with (code + :data:`LOST` when
    it lost its non-ASCII letters on the way), else None."""
    norm = normalize(text).lower()
    for sentence, code in SENTENCES:
        if norm.startswith(sentence.lower()):
            return code
    left = lossy(norm)
    for sentence, code in LOSSY_SENTENCES:
        if left.startswith(sentence.lower()):
            return code
    return None


def non_ascii_words() -> frozenset[str]:
    """The listed words with characters beyond ASCII: what tells code pages apart."""
    words = {*LABELS, *ROW_NAMES, *(s for s, _ in SENTENCES)}
    return frozenset(w for w in words if not w.isascii())
